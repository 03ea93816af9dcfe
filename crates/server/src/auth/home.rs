//! Where the admin API keeps the credentials it manages: the credentials file on the embedded
//! store (and a backend plugin), or the database store, as one record every process over it
//! reads again each second. Changes to the record are compare-and-set (`If-Match` on its last
//! version), so two admins changing credentials at once on two processes both take effect.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use xlrs_store::{DocumentScope, DocumentStore, StoreError};

use super::{CredentialError, Credentials, CredentialsFile, Source};
use crate::records;

/// How often a process reads the database's credentials again.
pub const WATCH_EVERY: Duration = Duration::from_secs(1);
/// How many times a change is tried again when another process changed the record first.
const TRIES: usize = 20;

/// Why a change of the managed credentials failed.
#[derive(Debug, thiserror::Error)]
pub enum HomeError {
    /// The change itself is refused (bad argument, unknown or duplicate key).
    #[error(transparent)]
    Refused(#[from] CredentialError),
    /// The database store failed.
    #[error("credentials in the database: {0}")]
    Store(#[from] StoreError),
}

/// Where managed credentials live.
pub enum CredentialHome {
    /// The credentials file (one process).
    File {
        /// The file.
        path: PathBuf,
        /// One change at a time within this process.
        lock: tokio::sync::Mutex<()>,
    },
    /// A record in the database store (every process over it).
    Database(Arc<dyn DocumentStore>),
}

/// The record holding the database's credentials: its scope and id.
fn record() -> (DocumentScope, &'static str) {
    (records::scope("credentials", ""), "credentials")
}

/// The database's credentials and the version they were read at.
async fn read(documents: &dyn DocumentStore) -> Result<(Credentials, Option<String>), HomeError> {
    let (scope, id) = record();
    Ok(match records::read(documents, &scope, id).await? {
        Some((credentials, etag)) => (credentials, Some(etag)),
        None => (Credentials::default(), None),
    })
}

impl CredentialHome {
    /// Which source the API's changes go to.
    pub fn source(&self) -> Source {
        match self {
            Self::File { .. } => Source::File,
            Self::Database(_) => Source::Database,
        }
    }

    /// The managed credentials as they are now.
    pub async fn read(&self) -> Result<Credentials, HomeError> {
        match self {
            Self::File { path, .. } => Ok(Credentials::read(path)?),
            Self::Database(documents) => Ok(read(documents.as_ref()).await?.0),
        }
    }

    /// Applies `change` to the managed credentials and keeps the result; `view` (this
    /// process's, when it serves) sees it at once. Over the database, a change another process made first is read
    /// and `change` applied again.
    pub async fn change<T>(
        &self,
        view: Option<&CredentialsFile>,
        mut change: impl FnMut(&mut Credentials) -> Result<T, CredentialError>,
    ) -> Result<T, HomeError> {
        match self {
            Self::File { path, lock } => {
                let _one = lock.lock().await;
                let mut credentials = Credentials::read(path)?;
                let done = change(&mut credentials)?;
                credentials.write(path)?;
                if let Some(view) = view {
                    view.reload()?;
                }
                Ok(done)
            }
            Self::Database(documents) => {
                let (scope, id) = record();
                for _ in 0..TRIES {
                    let (mut credentials, etag) = read(documents.as_ref()).await?;
                    let done = change(&mut credentials)?;
                    match records::write(documents.as_ref(), &scope, id, &credentials, etag).await {
                        Ok(_) => {
                            if let Some(view) = view {
                                view.set_database(credentials);
                            }
                            return Ok(done);
                        }
                        Err(StoreError::PreconditionFailed(_)) => continue,
                        Err(e) => return Err(e.into()),
                    }
                }
                Err(StoreError::Unavailable(format!(
                    "the credentials record changed {TRIES} times while this change was made; try again"
                ))
                .into())
            }
        }
    }

    /// Loads the database's credentials into `file`, then reads them again every
    /// [`WATCH_EVERY`], so a change any process makes counts here within about a second.
    pub async fn watch(self: Arc<Self>, file: Arc<CredentialsFile>) -> Result<(), HomeError> {
        let Self::Database(documents) = self.as_ref() else {
            return Ok(());
        };
        let (credentials, mut seen) = read(documents.as_ref()).await?;
        file.set_database(credentials);
        let documents = documents.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(WATCH_EVERY).await;
                let version = file.database_version();
                match read(documents.as_ref()).await {
                    // Dropped when this process wrote a change meanwhile: read again next time.
                    Ok((credentials, etag)) if etag != seen => {
                        if file.set_database_read_at(version, credentials) {
                            seen = etag;
                        }
                    }
                    Ok(_) => {}
                    Err(error) => {
                        tracing::warn!(%error, "reading the credentials in the database; keeping the last read")
                    }
                }
            }
        });
        Ok(())
    }
}
