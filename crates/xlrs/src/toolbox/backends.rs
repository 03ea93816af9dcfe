//! One trait every backend implements, and opening the backend a command names.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;

use super::{fs, ldp::Ldp, lrs::Lrs, s3::S3, store, swift::Swift, ws, Access, BackendKind};
use xlrs_server::settings::{Settings, StoreKind};

/// Where a read starts: each backend takes the options that resume it.
#[derive(Debug, Clone, Default)]
pub struct ReadFrom {
    /// Files, objects, archives, streams: statements to skip first.
    pub skip: u64,
    /// Objects and archives: only this one.
    pub object: Option<String>,
    /// An LRS: a statements query string.
    pub query: Option<String>,
    /// An LRS: the `more` link to resume from.
    pub more: Option<String>,
    /// A store: the position to resume after.
    pub after: Option<i64>,
}

/// What a write makes.
#[derive(Debug, Clone, Default)]
pub struct WriteTo {
    /// Files and objects: the name of the one to create.
    pub target: Option<String>,
    /// An LRS and the stores: statements per POST or stored batch (at least 1).
    pub chunk: usize,
}

/// What a write did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// How many statements.
    pub count: u64,
    /// Where they went, as an operator reads it (`written to the clickhouse store`, `sent to
    /// the WebSocket`, …).
    pub place: String,
}

/// A place statements are read from and written to, as JSON lines.
pub trait Backend {
    /// Writes the backend's statements to `out`, one JSON line each; returns how many. On
    /// failure the error says how to resume.
    fn read(&self, from: &ReadFrom, out: &mut dyn Write) -> anyhow::Result<u64>;
    /// Stores the JSON lines of `input`.
    fn write(&self, to: &WriteTo, input: &mut dyn BufRead) -> anyhow::Result<Written>;
    /// Lists what the backend holds, one JSON object a line.
    fn list(&self, _out: &mut dyn Write) -> anyhow::Result<()> {
        unlisted()
    }
}

/// The answer of a backend that holds no files, objects or archives to list.
fn unlisted() -> anyhow::Result<()> {
    anyhow::bail!(
        "listing is for files, objects and archives (--backend fs|s3|swift|ldp): read an LRS, a store or a stream with `xlrs read`"
    )
}

/// Opens the backend `kind` with the connection options of `access` (`path` for files and
/// the SQLite file); the stores with the server's `settings`. Async backends run on `runtime`.
pub fn open<'r>(
    kind: BackendKind,
    access: &Access,
    path: Option<&Path>,
    settings: &Settings,
    runtime: &'r tokio::runtime::Runtime,
) -> anyhow::Result<Box<dyn Backend + 'r>> {
    let url = |hint: &str| {
        access
            .url
            .clone()
            .ok_or_else(|| anyhow::anyhow!("--backend {} needs --url {hint}", kind.name()))
    };
    Ok(match kind {
        BackendKind::Fs => Box::new(Files {
            path: path
                .map(Path::to_path_buf)
                .ok_or_else(|| anyhow::anyhow!("--backend fs needs --path"))?,
        }),
        BackendKind::Lrs => {
            let password = super::flag_or_env(&access.password, &["LRS_PASSWORD"]);
            Box::new(Lrs::new(
                &url("<xAPI base URL>")?,
                access.username.clone(),
                password,
            )?)
        }
        BackendKind::S3 => Box::new(OnRuntime {
            backend: S3::open(&url("s3://BUCKET[/PREFIX]")?)?,
            runtime,
        }),
        BackendKind::Swift => Box::new(Swift::open(access)?),
        BackendKind::Ldp => Box::new(Ldp::open(access)?),
        BackendKind::Ws => Box::new(OnRuntime {
            backend: ws::Stream {
                url: access.url.clone(),
            },
            runtime,
        }),
        BackendKind::Sqlite
        | BackendKind::Clickhouse
        | BackendKind::Mongodb
        | BackendKind::Elasticsearch => {
            let mut settings = settings.clone();
            settings.store =
                StoreKind::try_from(kind.name().to_string()).map_err(anyhow::Error::msg)?;
            if let (BackendKind::Sqlite, Some(path)) = (kind, path) {
                settings.sqlite.path = Some(path.to_path_buf());
            }
            let statements = runtime
                .block_on(store::open(&settings))
                .with_context(|| format!("opening the {} store", kind.name()))?;
            Box::new(OnRuntime {
                backend: store::Store {
                    statements,
                    name: kind.name(),
                    authority: store::toolbox_authority(&settings),
                },
                runtime,
            })
        }
    })
}

/// JSON-lines files in a directory (or, to read, one file).
struct Files {
    path: PathBuf,
}

impl Backend for Files {
    fn read(&self, from: &ReadFrom, out: &mut dyn Write) -> anyhow::Result<u64> {
        fs::read(&self.path, from.skip, out)
    }

    fn write(&self, to: &WriteTo, input: &mut dyn BufRead) -> anyhow::Result<Written> {
        let (file, count) = fs::write(&self.path, to.target.as_deref(), input)?;
        Ok(Written {
            count,
            place: format!("written to {}", file.display()),
        })
    }

    fn list(&self, out: &mut dyn Write) -> anyhow::Result<()> {
        fs::list(&self.path, out)
    }
}

/// A backend whose work is async, run to completion on the toolbox's runtime.
pub(super) struct OnRuntime<'r, B> {
    /// The backend.
    pub(super) backend: B,
    /// Where it runs.
    pub(super) runtime: &'r tokio::runtime::Runtime,
}

/// The async side of a backend (S3, WebSocket streams, stores).
#[allow(async_fn_in_trait)]
pub(super) trait AsyncBackend {
    /// See [`Backend::read`].
    async fn read(&self, from: &ReadFrom, out: &mut dyn Write) -> anyhow::Result<u64>;
    /// See [`Backend::write`].
    async fn write(&self, to: &WriteTo, input: &mut dyn BufRead) -> anyhow::Result<Written>;
    /// See [`Backend::list`].
    async fn list(&self, _out: &mut dyn Write) -> anyhow::Result<()> {
        unlisted()
    }
}

impl<B: AsyncBackend> Backend for OnRuntime<'_, B> {
    fn read(&self, from: &ReadFrom, out: &mut dyn Write) -> anyhow::Result<u64> {
        self.runtime.block_on(self.backend.read(from, out))
    }

    fn write(&self, to: &WriteTo, input: &mut dyn BufRead) -> anyhow::Result<Written> {
        self.runtime.block_on(self.backend.write(to, input))
    }

    fn list(&self, out: &mut dyn Write) -> anyhow::Result<()> {
        self.runtime.block_on(self.backend.list(out))
    }
}
