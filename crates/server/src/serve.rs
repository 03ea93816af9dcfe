//! Starting the server: settings → credentials → plugins → stores → listener → axum.

use std::io::Write;
use std::sync::Arc;

use rand::distr::{Alphanumeric, SampleString};

use xlrs_plugin_host::PluginRegistry;
use xlrs_store::StoreError;

use crate::api::{router, AppState, Metrics};
use crate::auth::home::{CredentialHome, HomeError};
use crate::auth::{CredentialError, Credentials, CredentialsFile, Scope};
use crate::settings::Settings;
use crate::stores::open_stores;

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// A setting cannot work (exit code 2).
    #[error(transparent)]
    Config(#[from] crate::settings::ConfigError),
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

/// Makes sure an administrator can log in: the `admin_user` credential when set, otherwise on a
/// first start an `admin` with a random password, printed once and written to
/// `<data dir>/initial-credentials` (mode 0600).
pub fn ensure_admin(settings: &Settings) -> Result<(), ServeError> {
    let path = settings.auth_file();
    let mut credentials = Credentials::read(&path)?;
    if let (Some(user), Some(password)) = (&settings.admin_user, &settings.admin_password) {
        credentials.upsert(user, password, vec![Scope::All, Scope::Admin], None)?;
        credentials.write(&path)?;
        return Ok(());
    }
    if !credentials.credentials.is_empty() {
        return Ok(());
    }
    let password = Alphanumeric.sample_string(&mut rand::rng(), 24);
    credentials.upsert("admin", &password, vec![Scope::All, Scope::Admin], None)?;
    credentials.write(&path)?;
    let initial = settings.data_dir.join("initial-credentials");
    crate::auth::write_private_file(
        &initial,
        format!("username=admin\npassword={password}\n").as_bytes(),
    )
    .map_err(io(format!("writing {}", initial.display())))?;
    println!(
        "created credential `admin` (scopes all, admin) with password {password} — also in {}",
        initial.display()
    );
    Ok(())
}

/// A server ready to answer requests: everything its settings name, opened.
pub struct App {
    /// What every handler shares.
    pub state: AppState,
}

impl Drop for App {
    fn drop(&mut self) {
        if let Some(forwarder) = &self.state.forwarder {
            forwarder.set_writer(None);
        }
    }
}

/// The service that answers requests: the API behind the alternate request syntax's rewrite.
pub type AppService = tower::util::BoxCloneSyncService<
    axum::extract::Request,
    axum::response::Response,
    std::convert::Infallible,
>;

impl App {
    /// Opens the data dir, the admin credential, the plugins (watched for changes when
    /// `watch_plugins`), the stores, OIDC keys and forwarding.
    pub async fn open(settings: Settings, watch_plugins: bool) -> Result<App, ServeError> {
        std::fs::create_dir_all(&settings.data_dir).map_err(io(format!(
            "creating data dir {}",
            settings.data_dir.display()
        )))?;
        ensure_admin(&settings)?;
        let credentials = Arc::new(CredentialsFile::open(
            settings.auth_file(),
            settings.authority_home_page.clone(),
        )?);
        let plugins = PluginRegistry::open(settings.plugin_paths(), watch_plugins)
            .map_err(|e| ServeError::Plugins(e.to_string()))?;
        let metrics = Arc::new(Metrics::default());
        let stores = open_stores(&settings, &plugins)
            .await
            .map_err(|source| ServeError::Store {
                store: settings.store.to_string(),
                source,
            })?
            .metered(&metrics.store_errors);
        let oidc = match &settings.oidc {
            Some(o) => Some(
                crate::auth::oidc::Oidc::load(o.clone())
                    .await
                    .map_err(|e| ServeError::Oidc(e.to_string()))?,
            ),
            None => None,
        };
        let forwarder = crate::forward::Forwarder::start(&settings, &stores, &plugins)
            .await
            .map_err(|e| ServeError::Forwarding(e.to_string()))?;
        let credential_home = Arc::new(match settings.store.is_database() {
            true => CredentialHome::Database(stores.documents.clone()),
            false => CredentialHome::File {
                path: settings.auth_file(),
                lock: tokio::sync::Mutex::new(()),
            },
        });
        credential_home
            .clone()
            .watch(credentials.clone())
            .await
            .map_err(|e| match e {
                HomeError::Store(source) => ServeError::Store {
                    store: settings.store.to_string(),
                    source,
                },
                HomeError::Refused(e) => ServeError::Credentials(e),
            })?;
        if settings.lifecycle.retains() {
            let Some(lifecycle) = stores.lifecycle.clone() else {
                return Err(ServeError::Config(crate::settings::ConfigError::Value {
                    key: "lifecycle.statements_max_age",
                    message: format!(
                        "the {} store cannot remove statements (a v0.1 backend plugin has no removal; a v0.2 `storage` backend has): unset retention",
                        settings.store
                    ),
                }));
            };
            tokio::spawn(
                crate::lifecycle::retention::Retention {
                    statements: stores.statements.clone(),
                    documents: stores.documents.clone(),
                    lifecycle,
                    forwarder: forwarder.clone(),
                    settings: settings.lifecycle.clone(),
                }
                .run(),
            );
        }
        let refusals = Arc::new(crate::console::Refusals::new(
            settings.console.refusals_kept,
        ));
        let state = AppState {
            credential_home,
            versions: settings.xapi_versions.as_slice().into(),
            statements: stores.statements,
            documents: stores.documents,
            content: stores.content,
            admissions: stores.admissions,
            lifecycle: stores.lifecycle,
            store_gauges: stores.gauges,
            credentials,
            settings: Arc::new(settings),
            plugins,
            metrics,
            oidc,
            forwarder,
            admission_log: Arc::default(),
            started_at: xlrs_store::positions::now_micros(),
            refusals,
        };
        let reacts = state
            .settings
            .forwarding
            .iter()
            .any(|t| t.reactor().is_some());
        if let (Some(forwarder), true) = (&state.forwarder, reacts) {
            // Statements reactors derive go through the same write path as a POST's. The
            // writer holds the state (and so the forwarder): `App`'s drop breaks the cycle.
            forwarder.set_writer(Some(crate::api::reactions::derived_writer(state.clone())));
        }
        Ok(App { state })
    }

    /// The service answering requests. Before routing: a trailing `/` of the path is
    /// dropped (`/xAPI/statements/` is `/xAPI/statements`, as producers written for Ralph
    /// send it), and the alternate request syntax's rewrite (it changes the method) runs.
    pub fn service(&self) -> AppService {
        let api = tower::Layer::layer(
            &axum::middleware::from_fn(crate::api::alternate_syntax),
            router(self.state.clone()),
        );
        tower::util::BoxCloneSyncService::new(tower::Layer::layer(
            &axum::middleware::from_fn(crate::console::slash),
            tower_http::normalize_path::NormalizePath::trim_trailing_slash(api),
        ))
    }
}

/// Runs the server until SIGINT/SIGTERM.
pub async fn serve(settings: Settings) -> Result<(), ServeError> {
    let addr = settings.listen.clone();
    let limits = crate::listen::ConnectionLimits {
        header_read_timeout: std::time::Duration::from_secs(settings.header_read_timeout_secs),
        max_header_bytes: settings.max_header_bytes,
        max_connections: settings.max_connections,
    };
    let app = App::open(settings, true).await?;
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .map_err(io(format!("binding {addr}")))?;
    let local = listener
        .local_addr()
        .map_err(io("reading the bound address"))?;
    tracing::info!(%local, store = %app.state.settings.store, "serving xAPI");
    println!("xlrs listening on http://{local}");
    std::io::stdout().flush().ok();
    crate::listen::serve(listener, app.service(), limits, shutdown_signal()).await;
    if let Some(forwarder) = &app.state.forwarder {
        forwarder.stop().await;
    }
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
