//! Starting the server: settings → store → credentials → listener → axum.

use std::io::Write;
use std::sync::Arc;

use rand::distr::{Alphanumeric, SampleString};

use crate::api::{router, AppState};
use crate::auth::{CredentialError, Credentials, CredentialsFile, Scope};
use crate::config::Settings;
use crate::plugins::PluginRegistry;
use crate::store::clickhouse::ClickHouseStore;
use crate::store::elasticsearch::ElasticsearchStore;
use crate::store::mongo::MongoStore;
use crate::store::plugin::PluginStore;
use crate::store::sqlite::SqliteStore;
use crate::store::{DocumentStore, StatementStore, StoreError};

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// A setting cannot work (exit code 2).
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// The store could not be opened (a configuration problem: exit code 2).
    #[error("cannot open the {store} store: {source}")]
    Store {
        /// The store's name.
        store: String,
        /// What failed.
        source: StoreError,
    },
    /// The credentials file could not be read or written.
    #[error(transparent)]
    Credentials(#[from] CredentialError),
    /// OIDC is configured but unusable (settings, keys).
    #[error("{0}")]
    Oidc(String),
    /// The forwarding outbox could not be opened.
    #[error("forwarding: {0}")]
    Forwarding(String),
    /// The plugins directory could not be opened or watched.
    #[error("plugins: {0}")]
    Plugins(String),
    /// Binding or serving failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The I/O error.
        source: std::io::Error,
    },
}

impl ServeError {
    /// True when the operator must fix settings or the environment (exit code 2).
    pub fn is_config(&self) -> bool {
        matches!(
            self,
            Self::Store { .. }
                | Self::Credentials(_)
                | Self::Plugins(_)
                | Self::Oidc(_)
                | Self::Forwarding(_)
        )
    }
}

fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> ServeError {
    let context = context.into();
    move |source| ServeError::Io { context, source }
}

/// The stores a server runs on.
pub struct Stores {
    /// Statements.
    pub statements: Arc<dyn StatementStore>,
    /// Documents.
    pub documents: Arc<dyn DocumentStore>,
}

/// A store that keeps both statements and documents.
fn both<S: StatementStore + DocumentStore + 'static>(store: S) -> Stores {
    let store = Arc::new(store);
    Stores {
        statements: store.clone(),
        documents: store,
    }
}

/// Opens the configured stores: the embedded one; ClickHouse, MongoDB or Elasticsearch for
/// statements and documents when `store` names one; a backend plugin for statements when
/// `store` names one. Attachments and activity definitions stay embedded.
pub async fn open_stores(
    settings: &Settings,
    plugins: &Arc<PluginRegistry>,
) -> Result<Stores, ServeError> {
    let failed = |source| ServeError::Store {
        store: settings.store.clone(),
        source,
    };
    let embedded = Arc::new(
        SqliteStore::open(&settings.sqlite_path(), settings.sqlite.readers).map_err(failed)?,
    );
    Ok(match settings.store.as_str() {
        "sqlite" => Stores {
            statements: embedded.clone(),
            documents: embedded,
        },
        "clickhouse" => both(
            ClickHouseStore::open(&settings.clickhouse, embedded)
                .await
                .map_err(failed)?,
        ),
        "mongodb" => both(
            MongoStore::open(&settings.mongodb, embedded)
                .await
                .map_err(failed)?,
        ),
        "elasticsearch" => both(
            ElasticsearchStore::open(&settings.elasticsearch, embedded)
                .await
                .map_err(failed)?,
        ),
        plugin => Stores {
            statements: Arc::new(
                PluginStore::open(plugin, plugins.clone(), embedded.clone()).map_err(failed)?,
            ),
            documents: embedded,
        },
    })
}

/// Makes sure an administrator can log in: the `admin_user` credential when set, otherwise on a
/// first start an `admin` with a random password, printed once and written to
/// `<data dir>/initial-credentials` (mode 0600).
pub fn ensure_admin(settings: &Settings) -> Result<(), ServeError> {
    let path = settings.auth_file();
    let mut credentials = Credentials::read(&path)?;
    if let (Some(user), Some(password)) = (&settings.admin_user, &settings.admin_password) {
        credentials.upsert(user, password, vec![Scope::All], None)?;
        credentials.write(&path)?;
        return Ok(());
    }
    if !credentials.credentials.is_empty() {
        return Ok(());
    }
    let password = Alphanumeric.sample_string(&mut rand::rng(), 24);
    credentials.upsert("admin", &password, vec![Scope::All], None)?;
    credentials.write(&path)?;
    let initial = settings.data_dir.join("initial-credentials");
    crate::auth::write_private_file(
        &initial,
        format!("username=admin\npassword={password}\n").as_bytes(),
    )
    .map_err(io(format!("writing {}", initial.display())))?;
    println!(
        "created credential `admin` (scope all) with password {password} — also in {}",
        initial.display()
    );
    Ok(())
}

/// Runs the server until SIGINT/SIGTERM.
pub async fn serve(settings: Settings) -> Result<(), ServeError> {
    std::fs::create_dir_all(&settings.data_dir).map_err(io(format!(
        "creating data dir {}",
        settings.data_dir.display()
    )))?;
    ensure_admin(&settings)?;
    let credentials = Arc::new(CredentialsFile::open(
        settings.auth_file(),
        settings.authority_home_page.clone(),
    )?);
    let plugins = PluginRegistry::open(settings.plugin_paths(), true)
        .map_err(|e| ServeError::Plugins(e.to_string()))?;
    let stores = open_stores(&settings, &plugins).await?;
    let oidc = match &settings.oidc {
        Some(o) => Some(
            crate::auth::oidc::Oidc::load(o.clone())
                .await
                .map_err(|e| ServeError::Oidc(e.to_string()))?,
        ),
        None => None,
    };
    let forwarder = crate::forward::Forwarder::start(&settings, stores.statements.clone())
        .map_err(|e| ServeError::Forwarding(e.to_string()))?;
    let addr = settings.listen.clone();
    let limits = crate::listen::ConnectionLimits {
        header_read_timeout: std::time::Duration::from_secs(settings.header_read_timeout_secs),
        max_header_bytes: settings.max_header_bytes,
        max_connections: settings.max_connections,
    };
    let versions = settings.versions()?;
    let state = AppState {
        versions: versions.into(),
        statements: stores.statements,
        documents: stores.documents,
        credentials,
        settings: Arc::new(settings),
        plugins,
        metrics: Arc::default(),
        oidc,
        forwarder,
    };
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .map_err(io(format!("binding {addr}")))?;
    let local = listener
        .local_addr()
        .map_err(io("reading the bound address"))?;
    tracing::info!(%local, store = %state.settings.store, "serving xAPI");
    println!("xlrs listening on http://{local}");
    std::io::stdout().flush().ok();
    // The alternate request syntax changes the method, so it must run before routing.
    let app = tower::Layer::layer(
        &axum::middleware::from_fn(crate::api::alternate_syntax),
        router(state),
    );
    crate::listen::serve(listener, app, limits, shutdown_signal()).await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}
