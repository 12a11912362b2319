//! Running a blocking use-case (diesel, password hashing) off the async workers.

use actix_web::web;

use super::refusal::Refusal;

/// Runs `f` on the blocking pool. A task that panicked or was cancelled is an internal
/// refusal, logged here; what `f` answers is the caller's to convert, so a use-case is
/// usually called as `blocking(move || ...).await??`.
///
/// The call runs in a `use_case` span, a child of the request's, that names the caller's
/// file and line (exported with the traces; the log does not show it below `debug`).
#[track_caller]
pub fn blocking<R: Send + 'static>(
    f: impl FnOnce() -> R + Send + 'static,
) -> impl Future<Output = Result<R, Refusal>> {
    let caller = std::panic::Location::caller();
    let span = tracing::debug_span!(
        "use_case",
        code.filepath = caller.file(),
        code.lineno = caller.line()
    );
    async move {
        web::block(move || span.in_scope(f))
            .await
            .map_err(Refusal::failed)
    }
}
