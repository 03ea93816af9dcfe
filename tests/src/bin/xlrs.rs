fn main() -> std::process::ExitCode {
    xlrs::cli::run()
}
