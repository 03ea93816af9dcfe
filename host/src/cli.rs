//! The `xlrs` command line: `serve` and `auth add|list|remove`.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::auth::{Credentials, Scope};
use crate::config::Settings;

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
        action: PluginAction,
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
    Toolbox(Box<ToolboxCommand>),
    /// Convert Open edX tracking-log events (JSON lines, FILE or stdin) to xAPI statements on
    /// stdout, with the edx-to-xapi plugin (Ralph's mapping).
    Convert {
        /// The input format (only `edx`).
        #[arg(long, value_parser = ["edx"])]
        from: String,
        /// Tracking-log file (default: stdin).
        file: Option<PathBuf>,
        /// The converter component (default: edx-to-xapi in the plugins directory).
        #[arg(long)]
        plugin: Option<PathBuf>,
        /// Its manifest: `platform_url`, `uuid_namespace` (default: the plugin.toml beside it).
        #[arg(long)]
        manifest: Option<PathBuf>,
    },
    /// Manage credentials in the credentials file.
    Auth {
        /// What to do with credentials.
        #[command(subcommand)]
        action: AuthAction,
    },
}

/// `xlrs read|write|list`: statements moved between backends as JSON lines.
#[derive(Debug, Subcommand)]
pub enum ToolboxCommand {
    /// Write a backend's statements to stdout as JSON lines (resumable: --skip for files,
    /// objects, archives and streams, --more for an LRS, --after for a store).
    Read {
        /// Where to read from.
        #[command(flatten)]
        backend: BackendArgs,
        /// fs, s3, swift, ldp, ws: skip this many statements first (to resume an interrupted
        /// copy).
        #[arg(long, default_value_t = 0)]
        skip: u64,
        /// lrs: a statements query, e.g. `verb=http://adlnet.gov/expapi/verbs/completed`.
        #[arg(long)]
        query: Option<String>,
        /// lrs: resume from this `more` link (printed when a read fails).
        #[arg(long)]
        more: Option<String>,
        /// Stores: resume after this store position (printed when a read fails).
        #[arg(long)]
        after: Option<i64>,
    },
    /// Store statements read from stdin as JSON lines in a backend, in chunks.
    Write {
        /// Where to write to.
        #[command(flatten)]
        backend: BackendArgs,
        /// fs, s3, swift: the file or object to create (default statements-<time>.jsonl).
        #[arg(long)]
        target: Option<String>,
        /// lrs and stores: statements per POST / per stored batch.
        #[arg(long, default_value_t = 500)]
        chunk_size: usize,
    },
    /// List what a backend holds, one JSON object a line: the statement files of fs, the
    /// objects of s3 and swift, the archives of an ldp stream.
    List {
        /// What to list.
        #[command(flatten)]
        backend: BackendArgs,
    },
}

/// The backend of `xlrs read|write|list` and how to reach it. The flags are shared between
/// backends; each falls back to the backend's environment variables named in its help.
#[derive(Debug, clap::Args)]
pub struct BackendArgs {
    /// The backend (stores use the server's settings: --config, XLRS_*).
    #[arg(long, value_enum)]
    pub backend: crate::toolbox::BackendKind,
    /// fs: the directory (or, to read, one file); sqlite: the database file.
    #[arg(long)]
    pub path: Option<PathBuf>,
    /// lrs: the xAPI base URL, e.g. http://127.0.0.1:8100/xAPI; s3: s3://BUCKET[/PREFIX];
    /// swift: swift://CONTAINER[/PREFIX]; ldp: ldp://SERVICE/STREAM_ID; ws: ws://… or wss://….
    #[arg(long)]
    pub url: Option<String>,
    /// s3, swift: read only this object (a name under the prefix); ldp: only this archive id.
    #[arg(long)]
    pub object: Option<String>,
    /// lrs: Basic auth username; swift: the Keystone user (or OS_USERNAME).
    #[arg(long)]
    pub username: Option<String>,
    /// lrs: Basic auth password (or LRS_PASSWORD); swift: the Keystone password (or
    /// OS_PASSWORD).
    #[arg(long)]
    pub password: Option<String>,
    /// swift: the Keystone v3 URL (or OS_AUTH_URL; user and project domains from
    /// OS_USER_DOMAIN_NAME, OS_PROJECT_DOMAIN_NAME, default `Default`); ldp: the OVH API,
    /// ovh-eu, ovh-ca, ovh-us, … or a URL (or OVH_ENDPOINT, default ovh-eu; keys from
    /// OVH_APPLICATION_KEY, OVH_APPLICATION_SECRET, OVH_CONSUMER_KEY).
    #[arg(long)]
    pub auth_url: Option<String>,
    /// swift: the project (or OS_PROJECT_NAME, OS_TENANT_NAME; OS_PROJECT_ID for an id).
    #[arg(long)]
    pub project: Option<String>,
    /// swift: the region of the object-store endpoint (or OS_REGION_NAME).
    #[arg(long)]
    pub region: Option<String>,
    /// swift: a token, with --endpoint, instead of Keystone (or OS_AUTH_TOKEN); ldp: the
    /// stream's write token, sent as _X-OVH-TOKEN (or OVH_LDP_TOKEN).
    #[arg(long)]
    pub token: Option<String>,
    /// swift: the storage URL, with --token, instead of Keystone (or OS_STORAGE_URL); ldp: the
    /// GELF input writes go to, tls://HOST:PORT or tcp://HOST:PORT (or OVH_LDP_GELF).
    #[arg(long)]
    pub endpoint: Option<String>,
}

impl BackendArgs {
    /// The connection flags as the toolbox backends take them.
    fn access(&self) -> crate::toolbox::Access {
        crate::toolbox::Access {
            url: self.url.clone(),
            auth_url: self.auth_url.clone(),
            username: self.username.clone(),
            password: self.password.clone(),
            project: self.project.clone(),
            region: self.region.clone(),
            token: self.token.clone(),
            endpoint: self.endpoint.clone(),
        }
    }
}

/// `xlrs auth …`
#[derive(Debug, Subcommand)]
pub enum AuthAction {
    /// Add a credential (or replace the one with that username).
    Add {
        /// Login name.
        #[arg(long)]
        username: String,
        /// Password (prefer --password-stdin: arguments are visible to other users).
        #[arg(long, required_unless_present = "password_stdin")]
        password: Option<String>,
        /// Read the password from standard input.
        #[arg(long)]
        password_stdin: bool,
        /// A scope: statements/write, statements/read, statements/read/mine, state, define,
        /// profile, all/read, all (repeat for several).
        #[arg(long = "scope", required = true)]
        scopes: Vec<Scope>,
        /// The authority Agent as JSON (default: an account named after the username).
        #[arg(long)]
        agent: Option<String>,
    },
    /// List credentials: usernames and scopes.
    List,
    /// Remove a credential.
    Remove {
        /// Login name.
        #[arg(long)]
        username: String,
    },
}

/// `xlrs plugin …`
#[derive(Debug, Subcommand)]
pub enum PluginAction {
    /// Show which world a component implements, its WIT version and imports.
    Check {
        /// The component.
        file: PathBuf,
    },
    /// List the plugins in the plugins directory, as a server would load them.
    List,
    /// Run a validator or transformer over statements (a JSON array or object on stdin) and
    /// print the batch the server would store.
    Run {
        /// The component.
        file: PathBuf,
        /// Its manifest (config, limits).
        #[arg(long)]
        manifest: Option<PathBuf>,
    },
    /// Start a plugin project that builds and loads as is.
    New {
        /// The plugin's name (lowercase letters, digits, '-'): its folder and file names.
        name: String,
        /// Which world it implements.
        #[arg(long, value_enum)]
        kind: crate::plugins::PluginKind,
        /// The language it is written in.
        #[arg(long, value_enum)]
        lang: crate::plugins::authoring::Lang,
        /// The folder to create it in.
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        /// The xlrs-plugin-sdk checkout a Rust plugin depends on (found from here or from
        /// this xlrs's checkout when not given; else the published crate).
        #[arg(long)]
        sdk: Option<PathBuf>,
    },
    /// Build a plugin project (Rust, JavaScript, Python or C) into a component, installing
    /// the pinned npm/PyPI toolchain it needs on first use.
    Build {
        /// The project folder.
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Where to write the component (default DIR/target/NAME.wasm); its plugin.toml is
        /// copied beside it as NAME.toml.
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Where the npm and PyPI toolchains are installed (default: the `plugin_toolchains`
        /// setting, XLRS_PLUGIN_TOOLCHAINS, else ~/.cache/xlrs/toolchains).
        #[arg(long)]
        toolchains: Option<PathBuf>,
    },
    /// Turn a core module built with wit-bindgen (wasm32-unknown-unknown) into a component.
    Componentize {
        /// The core module.
        module: PathBuf,
        /// Where to write the component.
        #[arg(short, long)]
        output: PathBuf,
    },
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
    init_tracing(&settings.log, &settings.log_format);
    match cli.command {
        Command::Serve => serve(settings),
        Command::Plugin { action } => match plugin(&settings, action) {
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
        } => match validate(&settings, file, &xapi_version, plugins) {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => ExitCode::FAILURE,
            Err(e) => {
                eprintln!("xlrs: {e:#}");
                ExitCode::from(USAGE)
            }
        },
        Command::Toolbox(command) => match toolbox(&settings, *command) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("xlrs: {e:#}");
                ExitCode::FAILURE
            }
        },
        Command::Convert {
            from: _,
            file,
            plugin,
            manifest,
        } => match convert(&settings, file, plugin, manifest) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("xlrs: {e:#}");
                ExitCode::FAILURE
            }
        },
        Command::Auth { action } => match auth(&settings, action) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("xlrs: {e:#}");
                ExitCode::from(USAGE)
            }
        },
    }
}

fn init_tracing(filter: &str, format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if format == "json" {
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
    match runtime.block_on(crate::server::serve(settings)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xlrs: {e}");
            ExitCode::from(if e.is_config() { USAGE } else { 1 })
        }
    }
}

fn auth(settings: &Settings, action: AuthAction) -> anyhow::Result<()> {
    let path = settings.auth_file();
    let mut credentials = Credentials::read(&path)?;
    match action {
        AuthAction::Add {
            username,
            password,
            password_stdin,
            scopes,
            agent,
        } => {
            let password = match (password, password_stdin) {
                (_, true) => {
                    let mut p = String::new();
                    std::io::stdin()
                        .read_to_string(&mut p)
                        .context("reading the password from stdin")?;
                    p.trim_end_matches(['\r', '\n']).to_string()
                }
                (Some(p), false) => p,
                (None, false) => anyhow::bail!("give --password or --password-stdin"),
            };
            let agent = agent
                .map(|a| serde_json::from_str(&a).context("--agent is not JSON"))
                .transpose()?;
            credentials.upsert(&username, &password, scopes, agent)?;
            credentials.write(&path)?;
            println!("added credential `{username}` to {}", path.display());
        }
        AuthAction::List => {
            for c in &credentials.credentials {
                let scopes: Vec<&str> = c.scopes.iter().map(|s| s.as_str()).collect();
                println!("{}\t{}", c.username, scopes.join(" "));
            }
        }
        AuthAction::Remove { username } => {
            if !credentials.remove(&username) {
                anyhow::bail!("no credential `{username}` in {}", path.display());
            }
            credentials.write(&path)?;
            println!("removed credential `{username}`");
        }
    }
    Ok(())
}

/// `xlrs read|write|list`.
fn toolbox(settings: &Settings, command: ToolboxCommand) -> anyhow::Result<()> {
    use crate::toolbox::{fs, ldp::Ldp, lrs::Lrs, s3::S3, store, swift::Swift, ws, BackendKind};
    let path = |b: &BackendArgs| {
        b.path
            .clone()
            .ok_or_else(|| anyhow::anyhow!("--backend fs needs --path"))
    };
    let lrs = |b: &BackendArgs| {
        let url = b
            .url
            .as_deref()
            .ok_or_else(|| anyhow::anyhow!("--backend lrs needs --url"))?;
        let password = crate::toolbox::flag_or_env(&b.password, &["LRS_PASSWORD"]);
        Lrs::new(url, b.username.clone(), password)
    };
    let s3 = |b: &BackendArgs| {
        let url = b
            .url
            .as_deref()
            .ok_or_else(|| anyhow::anyhow!("--backend s3 needs --url s3://BUCKET[/PREFIX]"))?;
        S3::open(url)
    };
    let runtime = tokio::runtime::Runtime::new()?;
    // A built-in store: its name and the store opened with the server's settings.
    let open_store = |b: &BackendArgs, name: &'static str| {
        let mut settings = settings.clone();
        if let (BackendKind::Sqlite, Some(path)) = (b.backend, &b.path) {
            settings.sqlite.path = Some(path.clone());
        }
        runtime.block_on(store::open(&settings, name))
    };
    let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
    let mut stdin = std::io::stdin().lock();
    match command {
        ToolboxCommand::Read {
            backend,
            skip,
            query,
            more,
            after,
        } => {
            let n = match backend.backend {
                BackendKind::Fs => fs::read(&path(&backend)?, skip, &mut stdout)?,
                BackendKind::Lrs => {
                    lrs(&backend)?.read(query.as_deref(), more.as_deref(), &mut stdout)?
                }
                BackendKind::S3 => runtime.block_on(s3(&backend)?.read(
                    backend.object.as_deref(),
                    skip,
                    &mut stdout,
                ))?,
                BackendKind::Swift => Swift::open(&backend.access())?.read(
                    backend.object.as_deref(),
                    skip,
                    &mut stdout,
                )?,
                BackendKind::Ldp => Ldp::open(&backend.access())?.read(
                    backend.object.as_deref(),
                    skip,
                    &mut stdout,
                )?,
                BackendKind::Ws => {
                    runtime.block_on(ws::read(backend.url.as_deref(), skip, &mut stdout))?
                }
                BackendKind::Sqlite
                | BackendKind::Clickhouse
                | BackendKind::Mongodb
                | BackendKind::Elasticsearch => {
                    let statements = open_store(&backend, backend.backend.name())?;
                    runtime.block_on(store::read(statements.as_ref(), after, &mut stdout))?
                }
            };
            stdout.flush()?;
            eprintln!("{n} statement(s) read");
        }
        ToolboxCommand::Write {
            backend,
            target,
            chunk_size,
        } => match backend.backend {
            BackendKind::Fs => {
                let (file, n) = fs::write(&path(&backend)?, target.as_deref(), &mut stdin)?;
                eprintln!("{n} statement(s) written to {}", file.display());
            }
            BackendKind::Lrs => {
                let n = lrs(&backend)?.write(&mut stdin, chunk_size.max(1))?;
                eprintln!("{n} statement(s) written");
            }
            BackendKind::S3 => {
                let (object, n) =
                    runtime.block_on(s3(&backend)?.write(target.as_deref(), &mut stdin))?;
                eprintln!("{n} statement(s) written to s3 object {object}");
            }
            BackendKind::Swift => {
                let (object, n) =
                    Swift::open(&backend.access())?.write(target.as_deref(), &mut stdin)?;
                eprintln!("{n} statement(s) written to swift object {object}");
            }
            BackendKind::Ldp => {
                let n = Ldp::open(&backend.access())?.write(&mut stdin)?;
                eprintln!("{n} statement(s) sent to the LDP stream");
            }
            BackendKind::Ws => {
                let n = runtime.block_on(ws::write(backend.url.as_deref(), &mut stdin))?;
                eprintln!("{n} statement(s) sent to the WebSocket");
            }
            BackendKind::Sqlite
            | BackendKind::Clickhouse
            | BackendKind::Mongodb
            | BackendKind::Elasticsearch => {
                let name = backend.backend.name();
                let statements = open_store(&backend, name)?;
                let authority = store::toolbox_authority(settings);
                let n = runtime.block_on(store::write(
                    statements,
                    &mut stdin,
                    chunk_size.max(1),
                    &authority,
                ))?;
                eprintln!("{n} statement(s) written to the {name} store");
            }
        },
        ToolboxCommand::List { backend } => match backend.backend {
            BackendKind::Fs => fs::list(&path(&backend)?, &mut stdout)?,
            BackendKind::S3 => runtime.block_on(s3(&backend)?.list(&mut stdout))?,
            BackendKind::Swift => Swift::open(&backend.access())?.list(&mut stdout)?,
            BackendKind::Ldp => Ldp::open(&backend.access())?.list(&mut stdout)?,
            _ => anyhow::bail!(
                "listing is for files, objects and archives (--backend fs|s3|swift|ldp): read an LRS, a store or a stream with `xlrs read`"
            ),
        },
    }
    stdout.flush()?;
    Ok(())
}

/// The input of a command taking a FILE argument, or stdin without one.
fn file_or_stdin(file: Option<&std::path::Path>) -> anyhow::Result<Box<dyn std::io::BufRead>> {
    Ok(match file {
        Some(path) => Box::new(std::io::BufReader::new(
            std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?,
        )),
        None => Box::new(std::io::stdin().lock()),
    })
}

/// `xlrs convert --from edx`.
fn convert(
    settings: &Settings,
    file: Option<PathBuf>,
    plugin: Option<PathBuf>,
    manifest: Option<PathBuf>,
) -> anyhow::Result<()> {
    let dir = settings.plugins_dir().join("edx-to-xapi");
    let plugin = plugin.unwrap_or_else(|| dir.join("edx-to-xapi.wasm"));
    let manifest = manifest.or_else(|| {
        let beside = plugin.with_file_name("plugin.toml");
        let named = plugin.with_extension("toml");
        [beside, named].into_iter().find(|p| p.is_file())
    });
    if !plugin.is_file() {
        anyhow::bail!(
            "no converter at {}: build plugins/edx-to-xapi (scripts/build-plugins.sh) and install it there, or pass --plugin",
            plugin.display()
        );
    }
    let instance = crate::plugins::tooling::instance(&plugin, manifest.as_deref())?;
    let mut input = file_or_stdin(file.as_deref())?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let summary =
        crate::toolbox::convert::run(&instance, &mut input, &mut out, &mut std::io::stderr())?;
    out.flush()?;
    eprintln!(
        "{} statement(s) converted, {} event(s) of other types skipped, {} failed",
        summary.converted, summary.skipped, summary.failed
    );
    Ok(())
}

/// `xlrs validate`: true when every statement is valid.
fn validate(
    settings: &Settings,
    file: Option<PathBuf>,
    xapi_version: &str,
    plugins: bool,
) -> anyhow::Result<bool> {
    let version = crate::xapi::version::XapiVersion::from_header(xapi_version)
        .ok_or_else(|| anyhow::anyhow!("--xapi-version must be 2.0.0 or 1.0.3"))?;
    let registry = if plugins {
        Some(crate::plugins::PluginRegistry::open(
            settings.plugin_paths(),
            false,
        )?)
    } else {
        None
    };
    let pipeline = registry.as_ref().map(|r| r.pipeline());
    let input = file_or_stdin(file.as_deref())?;
    let summary = crate::toolbox::validate::run(
        input,
        std::io::stdout().lock(),
        version,
        pipeline.as_deref(),
    )?;
    eprintln!(
        "{} statement(s) checked, {} invalid",
        summary.checked, summary.invalid
    );
    Ok(summary.invalid == 0)
}

fn plugin(settings: &Settings, action: PluginAction) -> anyhow::Result<()> {
    use crate::plugins::tooling;
    match action {
        PluginAction::Check { file } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let description = tooling::describe(&bytes)?;
            println!("{}", serde_json::to_string_pretty(&description)?);
        }
        PluginAction::List => {
            let registry = crate::plugins::PluginRegistry::open(settings.plugin_paths(), false)?;
            println!("{}", serde_json::to_string_pretty(&registry.status())?);
        }
        PluginAction::Run { file, manifest } => {
            let mut input = String::new();
            std::io::stdin()
                .read_to_string(&mut input)
                .context("reading statements from stdin")?;
            let statements = match serde_json::from_str(&input).context("stdin is not JSON")? {
                serde_json::Value::Array(items) => items,
                one => vec![one],
            };
            let out = tooling::run(&file, manifest.as_deref(), statements)?;
            println!("{}", serde_json::to_string_pretty(&out)?);
        }
        PluginAction::New {
            name,
            kind,
            lang,
            dir,
            sdk,
        } => {
            let project =
                crate::plugins::authoring::new_project(&name, kind, lang, &dir, sdk.as_deref())?;
            println!("{}", project.display());
            eprintln!("build it with: xlrs plugin build {}", project.display());
        }
        PluginAction::Build {
            dir,
            output,
            toolchains,
        } => {
            let toolchains = toolchains
                .or_else(|| settings.plugin_toolchains.clone())
                .unwrap_or_else(crate::plugins::authoring::default_toolchains_dir);
            let out = crate::plugins::authoring::build(&dir, output.as_deref(), &toolchains)?;
            println!("{}", out.display());
        }
        PluginAction::Componentize { module, output } => {
            let bytes =
                std::fs::read(&module).with_context(|| format!("reading {}", module.display()))?;
            let component = tooling::componentize(&bytes, None)?;
            std::fs::write(&output, component)
                .with_context(|| format!("writing {}", output.display()))?;
        }
    }
    Ok(())
}
