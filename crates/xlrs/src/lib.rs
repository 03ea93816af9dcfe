//! The `xlrs` command line as a library, so the black-box tests can build the same binary
//! (`tests/src/bin/xlrs.rs`). Its only public item is [`run`].

mod cli;
mod plugin_tools;
mod toolbox;

pub use cli::run;
