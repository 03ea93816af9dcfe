//! Opening the stores the settings name: the embedded SQLite store always (it keeps the
//! documents, attachments and activity definitions of a backend plugin, and the attachments and
//! definitions of the database stores), and the database store or backend plugin chosen.

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
    let embedded = SqliteStore::open_all(&settings.sqlite, &settings.sqlite_path())?;
    match &settings.store {
        StoreKind::Sqlite => Ok(embedded),
        StoreKind::Clickhouse => {
            xlrs_store_clickhouse::open(&settings.clickhouse, embedded.side).await
        }
        StoreKind::Mongodb => xlrs_store_mongodb::open(&settings.mongodb, embedded.side).await,
        StoreKind::Elasticsearch => {
            xlrs_store_elasticsearch::open(&settings.elasticsearch, embedded.side).await
        }
        StoreKind::Plugin(name) => {
            xlrs_store_plugin::PluginStore::open(name, plugins.clone(), embedded)
        }
    }
}
