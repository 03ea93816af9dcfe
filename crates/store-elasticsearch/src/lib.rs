//! Elasticsearch (or OpenSearch) as the statement store (`store = "elasticsearch"`).
//!
//! Five indices. Ralph's index (`index`, default `statements`) holds each statement exactly as
//! Ralph writes it: `_id` the statement id, `_source` the statement, so Ralph's readers and
//! Kibana dashboards keep working. xlrs queries its own index (`query_index`): per statement
//! its query fields as `keyword`s, its position `stored` (µs, unique, increasing: reserved in
//! the database's ledger, whichever process writes) and the statement JSON in a field that is not indexed. A
//! separate index keeps Ralph's documents free of fields an xAPI statement must not have. Its
//! `target` object copies the filter fields of the statement a StatementRef points at, so the
//! filters that follow references are one query; `voided_at` is the position of the voiding
//! statement. Statements found in Ralph's index at start-up that the query index lacks are
//! indexed then, so a Ralph deployment switches without a migration.
//!
//! Elasticsearch has no multi-document transactions. Inserts are group-committed one round at a
//! time under the writer lock: ids are checked with one `_mget`, the round is written in one
//! `_bulk` with `refresh=wait_for`. While a round is in flight, queries and GETs only see
//! positions (`stored`, `voided_at`, `target.stored`) up to the committed watermark, the last
//! position of the rounds fully written; otherwise they are unbounded, so statements other xlrs
//! processes wrote are seen too (a read a round overlapped runs again, bounded). When any item
//! fails, every item written is taken back before the answer, and until
//! that undo succeeds no other round is written. Documents live in a third index
//! (`documents`); attachments and canonical activity definitions in two more
//! (`<query_index>_attachments`, `<query_index>_definitions`).
//!
//! Files: `client` (the HTTP client), `schema` (the indices and their mappings), `statements`
//! (reads, and the rounds group commit hands over), `write` (a round's bulk request and taking
//! it back), `query` (statement queries), `documents`, `content` (attachments and definitions),
//! `adopt` (Ralph's index).

mod admissions;
mod adopt;
mod client;
mod content;
mod documents;
mod ledger;
mod lifecycle;
mod query;
mod schema;
mod statements;
mod write;

use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;

use elasticsearch::http::Method;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use xlrs_store::group_commit::GroupCommitted;
use xlrs_store::ledger::Writers;
use xlrs_store::settings::{check_http_url, SettingError};
use xlrs_store::{StoreError, Stores};

use client::EsClient;
use write::Op;

/// Documents read per round when adopting Ralph's index or finding referring statements.
const CHUNK: usize = 1000;

/// Settings of the Elasticsearch store (Elasticsearch 8 or OpenSearch 2).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ElasticsearchSettings {
    /// The server, `http://` or `https://` (default `http://127.0.0.1:9200`).
    pub url: String,
    /// User name for Basic authentication (with `password`).
    pub username: Option<String>,
    /// Password of `username`.
    pub password: Option<String>,
    /// An API key, base64-encoded `id:key` (the `encoded` value Elasticsearch returns).
    pub api_key: Option<String>,
    /// PEM file of the CA that signed the server's certificate (a cluster's own CA, as
    /// Elasticsearch's security set-up makes); unset: the webpki roots.
    pub ca_file: Option<PathBuf>,
    /// Ralph's statements index (Ralph's `ES_INDEX`): each statement as a document, `_id` its
    /// id, `_source` the statement. Written on every insert; documents found there at
    /// start-up that xlrs has not indexed are adopted. Empty: not written.
    pub index: String,
    /// The index xlrs queries: each statement with its query fields.
    pub query_index: String,
    /// The documents index (State, Activity Profile, Agent Profile).
    pub documents_index: String,
}

impl Default for ElasticsearchSettings {
    fn default() -> Self {
        Self {
            url: "http://127.0.0.1:9200".into(),
            username: None,
            password: None,
            api_key: None,
            ca_file: None,
            index: "statements".into(),
            query_index: "xlrs_statements".into(),
            documents_index: "xlrs_documents".into(),
        }
    }
}

/// True for a name Elasticsearch accepts for an index: lowercase, at most 255 bytes, not `.`
/// or `..`, not starting with `-`, `_` or `+`, none of `\ / * ? " < > | , # :` or spaces.
fn is_index_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && name != "."
        && name != ".."
        && !name.starts_with(['-', '_', '+'])
        && name
            .chars()
            .all(|c| !c.is_uppercase() && !c.is_whitespace() && !"\\/*?\"<>|,#:".contains(c))
}

impl ElasticsearchSettings {
    /// Refuses values that cannot work: the URL, credentials given by halves or twice, a
    /// missing CA file, index names Elasticsearch refuses or that coincide.
    pub fn validate(&self) -> Result<(), SettingError> {
        let e = self;
        check_http_url("elasticsearch.url", &e.url)?;
        if e.username.is_some() != e.password.is_some() {
            return Err(SettingError::new(
                "elasticsearch.username/elasticsearch.password",
                "set both or neither",
            ));
        }
        if e.username.is_some() && e.api_key.is_some() {
            return Err(SettingError::new(
                "elasticsearch.api_key",
                "set either api_key or username and password, not both",
            ));
        }
        if let Some(ca) = e.ca_file.as_ref().filter(|ca| !ca.is_file()) {
            return Err(SettingError::new(
                "elasticsearch.ca_file",
                format!("{} is not a file", ca.display()),
            ));
        }
        for (key, name, may_be_empty) in [
            ("elasticsearch.index", &e.index, true),
            ("elasticsearch.query_index", &e.query_index, false),
            ("elasticsearch.documents_index", &e.documents_index, false),
        ] {
            if !(is_index_name(name) || may_be_empty && name.is_empty()) {
                return Err(SettingError::new(
                    key,
                    format!("`{name}` is not an index name (lowercase, no spaces or \\/*?\"<>|,#:, not starting with -_+)"),
                ));
            }
        }
        if e.index == e.query_index
            || e.index == e.documents_index
            || e.query_index == e.documents_index
        {
            return Err(SettingError::new(
                "elasticsearch.query_index",
                "index, query_index and documents_index must be three different indices",
            ));
        }
        Ok(())
    }
}

/// The server and its three indices.
pub struct Elasticsearch {
    /// The server.
    es: EsClient,
    /// Ralph's index, when written.
    ralph: Option<String>,
    /// The index xlrs queries.
    query_index: String,
    /// The documents index.
    documents_index: String,
    /// Writes of a failed round not yet taken back; no round is written before they are.
    undo: tokio::sync::Mutex<Vec<Op>>,
    /// The highest position of a round of this process fully written: while another round
    /// is in flight, reads see nothing above it (see [`Elasticsearch::bounded`]).
    committed: AtomicI64,
    /// Rounds started, so a read can tell that one started while it ran.
    rounds: AtomicU64,
    /// A failed round is not taken back yet: reads stay bounded until it is.
    undo_pending: AtomicBool,
    /// The first position of the round being written (0 when none).
    writing_since: AtomicI64,
    /// When this process prunes the ledger.
    pruning: xlrs_store::ledger::Pruning,
}

/// Connects, creates the indices when missing, and indexes the statements of Ralph's index
/// the query index lacks. An unreachable server is
/// [`StoreError::Unavailable`].
pub async fn open(
    settings: &ElasticsearchSettings,
    writers: Writers,
) -> Result<Stores, StoreError> {
    let database = Arc::new(Elasticsearch {
        es: EsClient::new(settings)?,
        ralph: (!settings.index.is_empty()).then(|| settings.index.clone()),
        query_index: settings.query_index.clone(),
        documents_index: settings.documents_index.clone(),
        undo: tokio::sync::Mutex::new(Vec::new()),
        committed: AtomicI64::new(0),
        rounds: AtomicU64::new(0),
        undo_pending: AtomicBool::new(false),
        writing_since: AtomicI64::new(0),
        pruning: xlrs_store::ledger::Pruning::default(),
    });
    database
        .ensure_layout()
        .await
        .map_err(|e| e.unreachable_at(&settings.url))?;
    let last = database.max_stored().await?;
    database.committed.store(last, Ordering::SeqCst);
    let statements = GroupCommitted::new(database.clone(), last, writers);
    let adopted = database.adopt_ralph(&statements).await?;
    if adopted > 0 {
        tracing::info!(adopted, "indexed statements found in Ralph's index");
    }
    Ok(statements.into_stores())
}

impl Elasticsearch {
    /// Makes sure of the indices again when a call found the server gone or one missing.
    async fn ready(&self) -> Result<(), StoreError> {
        if self.es.layout_ok.load(Ordering::SeqCst) {
            Ok(())
        } else {
            self.ensure_layout().await
        }
    }

    /// Runs a read with the highest position it may see. With no round of this process in
    /// flight or waiting to be taken back nothing needs hiding, so the read is unbounded and
    /// sees what other xlrs processes wrote too; if a round started meanwhile, or one is in
    /// flight, it runs bounded by the watermark, so no part of an unfinished round is seen.
    async fn bounded<T, F, Fut>(&self, read: F) -> Result<T, StoreError>
    where
        F: Fn(i64) -> Fut,
        Fut: Future<Output = Result<T, StoreError>>,
    {
        let quiet = || {
            self.writing_since.load(Ordering::SeqCst) == 0
                && !self.undo_pending.load(Ordering::SeqCst)
        };
        let round = self.rounds.load(Ordering::SeqCst);
        if quiet() {
            let found = read(i64::MAX).await?;
            if quiet() && self.rounds.load(Ordering::SeqCst) == round {
                return Ok(found);
            }
        }
        read(self.committed.load(Ordering::SeqCst)).await
    }

    /// The highest position in the query index (0 when empty).
    async fn max_stored(&self) -> Result<i64, StoreError> {
        let hits = self
            .es
            .hits(
                &self.query_index,
                &json!({"size": 1, "_source": ["stored"], "sort": [{"stored": "desc"}]}),
            )
            .await?;
        Ok(hits
            .first()
            .and_then(|hit| hit.pointer("/_source/stored"))
            .and_then(Value::as_i64)
            .unwrap_or(0))
    }

    async fn count(&self, index: &str) -> Result<u64, StoreError> {
        let reply = self
            .es
            .json(Method::Post, &format!("/{index}/_count"), &[], &json!({}))
            .await?;
        Ok(reply.get("count").and_then(Value::as_u64).unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elasticsearch_settings_that_cannot_work_are_refused_at_start() {
        assert!(ElasticsearchSettings::default().validate().is_ok());
        for (bad, key) in [
            (
                ElasticsearchSettings {
                    url: "127.0.0.1:9200".into(),
                    ..ElasticsearchSettings::default()
                },
                "elasticsearch.url",
            ),
            (
                ElasticsearchSettings {
                    username: Some("elastic".into()),
                    ..ElasticsearchSettings::default()
                },
                "elasticsearch.username/elasticsearch.password",
            ),
            (
                ElasticsearchSettings {
                    username: Some("elastic".into()),
                    password: Some("secret".into()),
                    api_key: Some("aWQ6a2V5".into()),
                    ..ElasticsearchSettings::default()
                },
                "elasticsearch.api_key",
            ),
            (
                ElasticsearchSettings {
                    ca_file: Some("/nonexistent/ca.pem".into()),
                    ..ElasticsearchSettings::default()
                },
                "elasticsearch.ca_file",
            ),
            (
                ElasticsearchSettings {
                    index: "Statements".into(),
                    ..ElasticsearchSettings::default()
                },
                "elasticsearch.index",
            ),
            (
                ElasticsearchSettings {
                    documents_index: "_docs".into(),
                    ..ElasticsearchSettings::default()
                },
                "elasticsearch.documents_index",
            ),
            (
                ElasticsearchSettings {
                    query_index: "statements".into(),
                    ..ElasticsearchSettings::default()
                },
                "elasticsearch.query_index",
            ),
        ] {
            assert!(
                matches!(bad.validate(), Err(SettingError { key: k, .. }) if k == key),
                "{key} is checked"
            );
        }
        let without_ralph = ElasticsearchSettings {
            index: String::new(),
            ..ElasticsearchSettings::default()
        };
        assert!(
            without_ralph.validate().is_ok(),
            "an empty index turns Ralph's index off"
        );
    }
}
