//! Gives the memory that starting the server freed back to the system.
//!
//! Each HTTP worker builds its routes, and with them the whole OpenAPI document
//! (utoipa-actix-web collects it route by route), then drops the document: one is kept for
//! all (`weir_http::openapi::Document`). glibc's malloc keeps what a thread freed in that
//! thread's arena, between the pages still in use, so an idle server held about 18 MB it
//! no longer used (docs/scaling.md, "Memory"). `malloc_trim` hands those pages back.

/// Returns the free pages of every malloc arena to the system; a no-op off glibc.
pub fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[allow(unsafe_code)]
    // SAFETY: malloc_trim takes no pointer and only releases pages malloc holds free; it is
    // safe to call from any thread at any time (it takes each arena's lock).
    unsafe {
        libc::malloc_trim(0);
    }
}
