//! The `xlrs` command line: `serve`, `auth`, `erase`, `plugin`, `validate`, `convert`, and the data
//! toolbox's `read`, `write` and `list`.

mod args;
mod commands;
mod erase;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use xlrs_server::settings::{LogFormat, Settings};

/// xlrs — an extensible xAPI Learning Record Store.
#[derive(Debug, Parser)]
#[command(name = "xlrs", version, about)]
pub struct Cli {
    /// Settings file (TOML); XLRS_* environment variables override it.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the LRS.
    Serve,
    /// Work with WebAssembly plugins.
    Plugin {
        /// What to do with plugins.
        #[command(subcommand)]
        action: args::PluginAction,
    },
    /// Check statements (JSON lines, from FILE or stdin) against the xAPI rules and, with
    /// --plugins, the plugins directory's validators and transformers; prints one JSON line
    /// per invalid statement and exits 1 when there is any.
    Validate {
        /// JSON-lines file (default: stdin).
        file: Option<PathBuf>,
        /// The xAPI version whose rules apply: 2.0.0 or 1.0.3.
        #[arg(long, default_value = "2.0.0")]
        xapi_version: String,
        /// Also run the plugins of the plugins directory, as the server would.
        #[arg(long)]
        plugins: bool,
    },
    /// `xlrs read|write|list`.
    #[command(flatten)]
    Toolbox(Box<args::ToolboxCommand>),
    /// Convert Open edX tracking-log events (JSON lines, FILE or stdin) to the xAPI statements
    /// Open edX's event-routing-backends makes of them, on stdout, with the edx-to-xapi plugin.
    Convert(args::ConvertArgs),
    /// Manage credentials: where the admin API keeps them (the database of a ClickHouse,
    /// MongoDB or Elasticsearch store, shared by every process; else the credentials file).
    Auth {
        /// Act on this process's credentials file even over a database store.
        #[arg(long, global = true)]
        in_file: bool,
        /// What to do with credentials.
        #[command(subcommand)]
        action: args::AuthAction,
    },
    /// Erase a person (GDPR Art. 17) through the running server's admin API, or with
    /// --dry-run report what would go; prints the receipt.
    Erase(erase::EraseArgs),
}

/// Exit code for usage and configuration errors.
const USAGE: u8 = 2;

/// Parses arguments, runs the command, and maps the outcome to the exit codes of DESIGN §6.
pub fn run() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { USAGE } else { 0 });
        }
    };
    let settings = match Settings::load(cli.config.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("xlrs: {e}");
            return ExitCode::from(USAGE);
        }
    };
    init_tracing(&settings.log, settings.log_format);
    match cli.command {
        Command::Serve => serve(settings),
        Command::Plugin { action } => match commands::plugin(&settings, action) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("xlrs: {e:#}");
                ExitCode::FAILURE
            }
        },
        Command::Validate {
            file,
            xapi_version,
            plugins,
        } => match commands::validate(&settings, file, &xapi_version, plugins) {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => ExitCode::FAILURE,
            Err(e) => {
                eprintln!("xlrs: {e:#}");
                ExitCode::from(USAGE)
            }
        },
        Command::Toolbox(command) => match commands::toolbox(&settings, *command) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("xlrs: {e:#}");
                ExitCode::FAILURE
            }
        },
        Command::Convert(args) => match commands::convert(&settings, args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("xlrs: {e:#}");
                ExitCode::FAILURE
            }
        },
        Command::Erase(args) => match erase::erase(&settings, args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("xlrs: {e:#}");
                ExitCode::FAILURE
            }
        },
        Command::Auth { in_file, action } => match commands::auth(&settings, action, in_file) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("xlrs: {e:#}");
                ExitCode::from(USAGE)
            }
        },
    }
}

fn init_tracing(filter: &str, format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if format == LogFormat::Json {
        // One JSON object per line, with the request's span (id, method, path) in each.
        builder.json().with_current_span(true).try_init()
    } else {
        builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .try_init()
    };
}

fn serve(settings: Settings) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("xlrs: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(xlrs_server::serve(settings)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xlrs: {e}");
            ExitCode::from(if e.is_config() { USAGE } else { 1 })
        }
    }
}
