//! Opening the stores the settings name: the embedded SQLite store always (it keeps the
//! documents, attachments and activity definitions of a backend plugin, and the admission
//! records), and the database store or backend plugin chosen.

use std::sync::Arc;

use xlrs_plugin_host::PluginRegistry;
use xlrs_store::{StoreError, Stores};
use xlrs_store_sqlite::SqliteStore;

use crate::settings::{Settings, StoreKind};

/// Opens the configured stores.
pub async fn open_stores(
    settings: &Settings,
    plugins: &Arc<PluginRegistry>,
) -> Result<Stores, StoreError> {
    let sqlite = Arc::new(SqliteStore::open(
        &settings.sqlite_path(),
        settings.sqlite.readers,
    )?);
    let embedded = SqliteStore::stores(sqlite.clone());
    let stores = match &settings.store {
        StoreKind::Sqlite => return Ok(embedded),
        StoreKind::Plugin(name) => {
            return xlrs_store_plugin::PluginStore::open(name, plugins.clone(), embedded)
        }
        StoreKind::Clickhouse => {
            xlrs_store_clickhouse::open(&settings.clickhouse, settings.writers).await?
        }
        StoreKind::Mongodb => xlrs_store_mongodb::open(&settings.mongodb, settings.writers).await?,
        StoreKind::Elasticsearch => {
            xlrs_store_elasticsearch::open(&settings.elasticsearch, settings.writers).await?
        }
    };
    // Attachments and definitions an earlier xlrs kept in the data dir go to the database.
    let moved = sqlite.hand_over_content(stores.content.as_ref()).await?;
    if moved.attachments > 0 || moved.definitions > 0 {
        tracing::info!(
            attachments = moved.attachments,
            definitions = moved.definitions,
            "moved attachments and activity definitions from the data dir into the database"
        );
    }
    Ok(stores)
}
