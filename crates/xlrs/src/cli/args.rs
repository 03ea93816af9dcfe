//! The arguments of the subcommands that have several flags: `read|write|list`, `auth`,
//! `plugin`.

use std::path::PathBuf;

use clap::builder::TypedValueParser;
use clap::Subcommand;
use xlrs_plugin_host::PluginKind;
use xlrs_server::auth::Scope;

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
    pub fn access(&self) -> crate::toolbox::Access {
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
    /// Import the users of Ralph's credentials file (`auth.json`, as `ralph auth -w` writes
    /// it): their bcrypt hashes are kept, so nobody needs a new password; a credential of the
    /// same username is replaced.
    Import {
        /// Ralph's auth.json.
        file: PathBuf,
        /// Ralph ran with RALPH_LRS_RESTRICT_BY_SCOPES=true: give each user its listed scopes
        /// (else every user gets `all`, as Ralph let it do everything).
        #[arg(long)]
        restrict_by_scopes: bool,
    },
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
        #[arg(long, value_parser = plugin_kind())]
        kind: PluginKind,
        /// The language it is written in.
        #[arg(long, value_enum)]
        lang: crate::plugin_tools::Lang,
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

/// Parses a plugin kind, listing the kinds in `--help`.
fn plugin_kind() -> impl clap::builder::TypedValueParser<Value = PluginKind> {
    clap::builder::PossibleValuesParser::new(PluginKind::ALL.map(PluginKind::as_str))
        .try_map(|name| name.parse::<PluginKind>())
}

/// `xlrs convert`.
#[derive(Debug, clap::Args)]
pub struct ConvertArgs {
    /// The input format (only `edx`).
    #[arg(long, value_parser = ["edx"])]
    pub from: String,
    /// Tracking-log file (default: stdin).
    pub file: Option<PathBuf>,
    /// The converter component (default: edx-to-xapi in the plugins directory).
    #[arg(long)]
    pub plugin: Option<PathBuf>,
    /// Its manifest, whose `[config]` stands for ERB's settings: `lms_root_url`,
    /// `external_user_ids`, `uuid_namespace`, `agent_ifi`, `user_emails`, `course_names`,
    /// `transformer_version` (default: the plugin.toml beside it).
    #[arg(long)]
    pub manifest: Option<PathBuf>,
    /// Leave out the statements that break xAPI (as some of ERB's do) instead of writing them
    /// as ERB makes them.
    #[arg(long)]
    pub valid_only: bool,
}
