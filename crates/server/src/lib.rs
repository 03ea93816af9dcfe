//! The xlrs server: settings, the xAPI resources over HTTP (axum), authentication, forwarding
//! to other LRSs, and starting it all. Data flows one way: HTTP request → typed, validated
//! statements (`xlrs-xapi`) → plugin pipeline (`xlrs-plugin-host`) → store (`xlrs-store`) →
//! response. Handlers never see SQL; stores never see HTTP.

pub mod api;
pub mod auth;
pub mod console;
pub mod forward;
pub mod lifecycle;
pub mod listen;
pub mod records;
mod serve;
pub mod settings;
mod stores;

pub use serve::{ensure_admin, serve, App, AppService, ServeError};
pub use stores::open_stores;
