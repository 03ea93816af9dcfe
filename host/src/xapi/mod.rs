//! The xAPI data model and the specification's rules: pure code, no I/O.

pub mod validate;
pub mod version;
