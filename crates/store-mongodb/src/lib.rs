//! MongoDB as the statement store (`store = "mongodb"`).
//!
//! Statements are kept in Ralph's layout: one document per statement, `_source` the statement
//! and `_id` the ObjectId Ralph derives from its timestamp and id, so Ralph's readers and the
//! data of a Ralph deployment keep working. xlrs adds `xlrs`: its query fields and the
//! statement's position (`stored`, µs, unique and increasing), with compound indexes that
//! serve each filter in position order. Documents found without it at start-up (written by
//! Ralph) are indexed then and served without a migration.
//!
//! Inserts are group-committed one round at a time per process (`GroupCommitted`), their
//! positions reserved in the database's ledger (any number of processes may write),
//! each round in one transaction, so a batch is kept and visible whole or not at all. Transactions need a replica
//! set or a sharded cluster (a single-member replica set will do); a standalone server is
//! refused at start-up. State and profile documents live in a collection of their own
//! (`documents`), attachments and canonical activity definitions in theirs
//! (`<collection>_attachments`, `<collection>_definitions`).

mod adopt;
mod content;
mod documents;
mod ledger;
mod lifecycle;
mod query;
mod schema;
mod statements;

use std::sync::Arc;
use std::time::Duration;

use mongodb::bson::{doc, Document as Doc};
use mongodb::error::{Error as MongoError, ErrorKind, WriteFailure};
use mongodb::options::ClientOptions;
use mongodb::{Client, Collection, Cursor};
use serde::{Deserialize, Serialize};
use xlrs_store::group_commit::GroupCommitted;
use xlrs_store::ledger::Writers;
use xlrs_store::settings::SettingError;
use xlrs_store::{StoreError, Stores};

/// How long an operation waits for a reachable server before the API answers 500, unless the
/// connection string sets `serverSelectionTimeoutMS`.
const SERVER_SELECTION_TIMEOUT: Duration = Duration::from_secs(5);

/// Settings of the MongoDB store.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MongoSettings {
    /// Connection string, `mongodb://` or `mongodb+srv://`: hosts, credentials, TLS and replica
    /// set options as MongoDB documents them (default `mongodb://127.0.0.1:27017`).
    pub uri: String,
    /// Database holding the collections.
    pub database: String,
    /// Statements, in Ralph's layout (`_source` is the statement) plus xlrs's query fields.
    pub collection: String,
    /// State, Activity Profile and Agent Profile documents.
    pub documents_collection: String,
}

impl Default for MongoSettings {
    fn default() -> Self {
        Self {
            uri: "mongodb://127.0.0.1:27017".into(),
            database: "xlrs".into(),
            collection: "statements".into(),
            documents_collection: "documents".into(),
        }
    }
}

impl MongoSettings {
    /// Refuses values that cannot work: the URI's scheme, and names MongoDB refuses.
    pub fn validate(&self) -> Result<(), SettingError> {
        let m = self;
        if !(m.uri.starts_with("mongodb://") || m.uri.starts_with("mongodb+srv://")) {
            return Err(SettingError::new(
                "mongodb.uri",
                format!("`{}` is not a mongodb:// or mongodb+srv:// URI", m.uri),
            ));
        }
        // MongoDB's naming rules: a database name has none of `/\. "$` and is at most 63
        // bytes; a collection name has no `$`, does not start with `system.`.
        if m.database.is_empty()
            || m.database.len() > 63
            || m.database.contains(['/', '\\', '.', ' ', '"', '$', '\0'])
        {
            return Err(SettingError::new(
                "mongodb.database",
                format!("`{}` is not a MongoDB database name", m.database),
            ));
        }
        for (key, name) in [
            ("mongodb.collection", &m.collection),
            ("mongodb.documents_collection", &m.documents_collection),
        ] {
            if name.is_empty() || name.contains(['$', '\0']) || name.starts_with("system.") {
                return Err(SettingError::new(
                    key,
                    format!("`{name}` is not a MongoDB collection name"),
                ));
            }
        }
        if m.collection == m.documents_collection {
            return Err(SettingError::new(
                "mongodb.documents_collection",
                "must differ from mongodb.collection",
            ));
        }
        Ok(())
    }
}

/// The database: the statements and documents collections.
pub struct Mongo {
    client: Client,
    statements: Collection<Doc>,
    /// State, Activity Profile and Agent Profile documents.
    documents: Collection<Doc>,
    /// Attachment contents, in parts.
    attachments: Collection<Doc>,
    /// Activity definitions, as contributions.
    definitions: Collection<Doc>,
    /// The position ledger.
    positions: Collection<Doc>,
    /// When this process prunes the ledger.
    pruning: xlrs_store::ledger::Pruning,
}

/// Connects, checks the server can run transactions, creates the indexes, and indexes the
/// statements Ralph wrote. An unreachable server is
/// [`StoreError::Unavailable`].
pub async fn open(settings: &MongoSettings, writers: Writers) -> Result<Stores, StoreError> {
    let mut options = ClientOptions::parse(&settings.uri).await.map_err(|e| {
        StoreError::Internal(format!(
            "mongodb.uri is not a usable connection string: {e}"
        ))
    })?;
    options
        .server_selection_timeout
        .get_or_insert(SERVER_SELECTION_TIMEOUT);
    options.app_name.get_or_insert_with(|| "xlrs".into());
    let hosts: Vec<String> = options.hosts.iter().map(ToString::to_string).collect();
    let client = Client::with_options(options).map_err(failed)?;
    let hello = client
        .database("admin")
        .run_command(doc! { "hello": 1 })
        .await
        .map_err(|e| failed(e).unreachable_at(&hosts.join(",")))?;
    if !hello.contains_key("setName") && hello.get_str("msg") != Ok("isdbgrid") {
        return Err(StoreError::Internal(format!(
            "MongoDB at {} is a standalone server: xlrs writes each batch in a transaction, \
             which needs a replica set or a sharded cluster (a single-member replica set \
             will do: start mongod with --replSet NAME and run rs.initiate() once)",
            hosts.join(",")
        )));
    }
    let db = client.database(&settings.database);
    let database = Arc::new(Mongo {
        statements: db.collection(&settings.collection),
        documents: db.collection(&settings.documents_collection),
        attachments: db.collection(&format!("{}_attachments", settings.collection)),
        definitions: db.collection(&format!("{}_definitions", settings.collection)),
        positions: db.collection(&format!("{}_positions", settings.collection)),
        pruning: xlrs_store::ledger::Pruning::default(),
        client,
    });
    database.migrate(&db).await?;
    let last = database.last_stored().await?;
    let statements = GroupCommitted::new(database.clone(), last, writers);
    let adopted = database.adopt_ralph_documents(&statements).await?;
    if adopted > 0 {
        tracing::info!(adopted, "indexed statements Ralph wrote");
    }
    Ok(statements.into_stores())
}

/// A MongoDB failure as a store error: no server reachable is [`StoreError::Unavailable`].
pub(crate) fn failed(e: MongoError) -> StoreError {
    let unreachable = matches!(
        *e.kind,
        ErrorKind::ServerSelection { .. }
            | ErrorKind::Io(_)
            | ErrorKind::ConnectionPoolCleared { .. }
            | ErrorKind::DnsResolve { .. }
    ) || e.contains_label("TransientTransactionError");
    if unreachable {
        StoreError::Unavailable(format!("MongoDB: {e}"))
    } else {
        StoreError::Internal(format!("MongoDB: {e}"))
    }
}

/// True when the write failed on a unique index (E11000).
pub(crate) fn duplicate_key(e: &MongoError) -> bool {
    const DUPLICATE_KEY: i32 = 11000;
    match &*e.kind {
        ErrorKind::Write(WriteFailure::WriteError(w)) => w.code == DUPLICATE_KEY,
        ErrorKind::InsertMany(m) => m
            .write_errors
            .iter()
            .flatten()
            .any(|w| w.code == DUPLICATE_KEY),
        ErrorKind::Command(c) => c.code == DUPLICATE_KEY,
        _ => false,
    }
}

/// Every document a cursor yields.
pub(crate) async fn collect(mut cursor: Cursor<Doc>) -> Result<Vec<Doc>, StoreError> {
    let mut docs = Vec::new();
    while cursor.advance().await.map_err(failed)? {
        docs.push(cursor.deserialize_current().map_err(failed)?);
    }
    Ok(docs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mongodb_settings_that_cannot_work_are_refused_at_start() {
        assert!(MongoSettings::default().validate().is_ok());
        let srv = MongoSettings {
            uri: "mongodb+srv://u:p@cluster0.example.net/?tls=true".into(),
            ..MongoSettings::default()
        };
        assert!(srv.validate().is_ok(), "SRV connection strings work");
        for (bad, key) in [
            (
                MongoSettings {
                    uri: "http://127.0.0.1:27017".into(),
                    ..MongoSettings::default()
                },
                "mongodb.uri",
            ),
            (
                MongoSettings {
                    database: "my.db".into(),
                    ..MongoSettings::default()
                },
                "mongodb.database",
            ),
            (
                MongoSettings {
                    collection: "system.users".into(),
                    ..MongoSettings::default()
                },
                "mongodb.collection",
            ),
            (
                MongoSettings {
                    documents_collection: "statements".into(),
                    ..MongoSettings::default()
                },
                "mongodb.documents_collection",
            ),
        ] {
            assert!(
                matches!(bad.validate(), Err(SettingError { key: k, .. }) if k == key),
                "{key} is checked"
            );
        }
    }
}
