//! Running a blocking use-case (diesel, password hashing) off the async workers.

use actix_web::web;

use super::refusal::Refusal;

/// Runs `f` on the blocking pool. A task that panicked or was cancelled is an internal
/// refusal, logged here; what `f` answers is the caller's to convert, so a use-case is
/// usually called as `blocking(move || ...).await??`.
pub async fn blocking<R: Send + 'static>(
    f: impl FnOnce() -> R + Send + 'static,
) -> Result<R, Refusal> {
    web::block(f).await.map_err(Refusal::failed)
}
