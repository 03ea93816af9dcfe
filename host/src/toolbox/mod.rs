//! The data toolbox behind `xlrs validate` (and, as issue 10 grows, read/write/list/convert):
//! statements as JSON lines, checked and moved outside a running server.

pub mod validate;
