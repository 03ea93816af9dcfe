//! The xAPI data model and the specification's rules: pure code, no I/O.

pub mod activity;
pub mod agent;
pub mod canonical;
pub mod format;
pub mod query;
pub mod signature;
pub mod statement;
pub mod strict_json;
pub mod time;
pub mod validate;
pub mod version;
