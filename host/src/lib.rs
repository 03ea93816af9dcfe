//! xlrs — an extensible xAPI Learning Record Store.
//!
//! Data flows one way: HTTP request → typed, validated statements → store → response.
//! The xAPI rules live in [`xapi`]; stores never see HTTP; handlers never see SQL.

pub mod api;
pub mod auth;
pub mod cli;
pub mod config;
pub mod forward;
pub mod listen;
pub mod plugins;
pub mod server;
pub mod store;
pub mod toolbox;
pub mod xapi;

#[cfg(test)]
mod fuzz;
