//! The Smartbi dialect (`002_1343e5a9f72931f5.txt`): `POST /smartbi/vision/api/{module}/{action}`
//! with `smartbiToken` and `paramsInfo`, answering `{success, msg, result}`.
//!
//! - [`actions`]: every action with the shape of its `paramsInfo`, which the dispatcher and
//!   the OpenAPI document both read;
//! - [`routes`]: the route, reading the parameters ([`params`]), finding the caller
//!   (`smartbiToken` through [`token`], or a bearer token) and dispatching the action;
//! - [`catalog`]: the catalog actions; `catalog::dispatch` gets the caller and the parsed
//!   `paramsInfo` (`null` when it was not sent or blank);
//! - [`identity`]: users, user groups, roles and their links (document section 3);
//! - [`envelope`]: the answer, always HTTP 200.
//!
//! See docs/smartbi.md.

pub mod actions;
pub mod catalog;
pub mod envelope;
pub mod identity;
pub mod params;
pub mod routes;
pub mod token;

/// The dialect's settings (`[smartbi]` in the configuration).
#[derive(Debug, Clone)]
pub struct SmartbiSettings {
    /// The AES-256-GCM key of `smartbiToken`; without it, only bearer tokens are accepted.
    pub token_key: Option<token::TokenKey>,
    /// How old a `smartbiToken` may be, in seconds.
    pub token_window_secs: u64,
}

impl Default for SmartbiSettings {
    fn default() -> Self {
        Self {
            token_key: None,
            token_window_secs: 300,
        }
    }
}
