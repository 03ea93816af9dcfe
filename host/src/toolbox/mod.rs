//! The data toolbox behind `xlrs validate`, `xlrs read`, `xlrs write` and `xlrs list`:
//! statements as JSON lines, checked and moved between backends outside a running server.

pub mod fs;
pub mod lrs;
pub mod progress;
pub mod validate;

/// Where statements are read from or written to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BackendKind {
    /// JSON-lines files in a directory (`.gz` read too).
    Fs,
    /// An LRS over HTTP (the xAPI statements resource).
    Lrs,
}
