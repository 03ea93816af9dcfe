//! The `xlrs` binary, built in this package so the black-box tests can run it
//! (`CARGO_BIN_EXE_xlrs`).

fn main() -> std::process::ExitCode {
    xlrs::run()
}
