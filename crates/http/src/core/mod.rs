//! The HTTP core every dialect (native, Wyn, ThingsKit, Smartbi) is built on, and none of
//! them owns: the application [`state`], reading bodies ([`body`], with the limits and the
//! NUL rule of [`text_guard`]), running use-cases off the async workers ([`blocking()`]), the
//! caller behind a bearer token ([`auth`]), JSON answers ([`response`]), and the
//! dialect-neutral [`refusal`] each dialect turns into its own envelope. A dialect imports
//! from here, never from another dialect.

pub mod auth;
pub mod blocking;
pub mod body;
pub mod refusal;
pub mod response;
pub mod state;
pub mod text_guard;

pub use blocking::blocking;
pub use refusal::{Refusal, RefusalKind};
pub use state::State;
