//! The tables: statements with their skipping indexes, the agent and activity index tables
//! (filled behind the writes), the StatementRef index table and its view, Ralph's events table, the documents, attachments and definitions
//! tables; and their layout version.

use xlrs_store::StoreError;

use crate::{failed, ClickHouse};

/// Layout version of the tables; bump with a migration when it changes.
const SCHEMA_VERSION: u32 = 1;

/// The MergeTree setting that keeps each row's block number (`_block_number`).
const BLOCK_NUMBERS: &str = "enable_block_number_column";

/// How many parts of about one size the tables xlrs creates for every round (statements and
/// Ralph's events) gather before ClickHouse merges them (`merge_selector_base`, 5 by
/// default): rounds make many small parts, and merging them in wider, rarer merges rewrites
/// each row fewer times (a load of 60,000 statements: 93,000 rows merged against 220,000, a
/// quarter to two fifths less engine CPU; bench/RESULTS.md, 2026-12-06).
const MERGE_SELECTOR_BASE: u32 = 20;

impl ClickHouse {
    /// Creates the tables, views and indexes that are missing, and refuses a layout newer
    /// than this xlrs knows.
    pub(crate) async fn migrate(&self) -> Result<(), StoreError> {
        let meta = "xlrs_meta";
        self.create_missing(
            meta,
            &format!(
                "CREATE TABLE IF NOT EXISTS {meta} (key String, value UInt32) \
                 ENGINE = ReplacingMergeTree ORDER BY key"
            ),
        )
        .await?;
        let version: Option<u32> = self
            .client
            .query(&format!(
                "SELECT max(value) FROM {meta} WHERE key = 'schema_version' HAVING count() > 0"
            ))
            .fetch_optional()
            .await
            .map_err(failed)?;
        if let Some(v) = version.filter(|v| *v > SCHEMA_VERSION) {
            return Err(StoreError::Internal(format!(
                "the database has layout version {v}, newer than this xlrs knows ({SCHEMA_VERSION}); upgrade xlrs"
            )));
        }
        let merging = self.merging().await;
        // Granules of 256 rows: a page of an agent's or activity's statements is scattered
        // over the table, and ClickHouse reads a body by decompressing its granule up to it,
        // so this bounds what one statement costs to read (a page of 100 scattered statements
        // cost 137 ms with 8192-row granules, 37–57 ms with 256, at 200,000 and 800,000
        // statements; bench/RESULTS.md).
        // Skipping indexes, each over 32 granules (8192 rows, as many as a bloom filter serves
        // well): bloom filters for ids and registrations (many values, each in few granules),
        // sets for the sparse reference columns (a block without any reference is skipped by
        // `!= nil`). Agents and activities have index tables of their own (below);
        // verbs and authorities are few, so a bloom filter would skip nothing.
        self.create_missing(
            &self.statements,
            &format!(
                "CREATE TABLE IF NOT EXISTS {} (
                id UUID,
                stored Int64,
                verb String,
                agents Array(String),
                direct_agents Array(String),
                activities Array(String),
                direct_activities Array(String),
                registration String,
                statement_ref UUID,
                voids UUID,
                authority String,
                content_hash String,
                body String CODEC(ZSTD(1)),
                INDEX id_bf id TYPE bloom_filter GRANULARITY 32,
                INDEX registration_bf registration TYPE bloom_filter GRANULARITY 32,
                INDEX statement_ref_set statement_ref TYPE set(0) GRANULARITY 32,
                INDEX voids_set voids TYPE set(0) GRANULARITY 32
            ) ENGINE = MergeTree ORDER BY (stored, id) SETTINGS index_granularity = 256, \
                {BLOCK_NUMBERS} = 1{}",
                self.statements,
                merging
                    .as_ref()
                    .map(|m| format!(", {m}"))
                    .unwrap_or_default()
            ),
        )
        .await?;
        self.number_blocks().await?;
        // The agent and activity filters' index: one row per (key, statement), ordered by key
        // then `stored`, filled behind the writes (see [`crate::indexer`]); doubles collapse
        // as the tables merge. A database whose index views exist keeps them. The activity
        // index in granules of 1024 rows: a page's window (its newest positions) reads one or
        // two of them (34.6 → 31 ms of engine CPU a page at 20,000 statements,
        // bench/RESULTS.md).
        // The agent index also holds the bodies of the statements under their direct agents,
        // and the columns the filters test, as of a version (`written`, the newest kept as
        // the table merges): a page by agent reads its 100 rows from one or two granules of
        // 256 (22–25 → 11–13 ms of engine CPU a page at 20,000 statements, bench/RESULTS.md).
        let mut views = true;
        for (kind, _) in crate::indexer::INDEXES {
            let index = format!("{}_by_{kind}", self.statements);
            let ddl = if kind == "agent" {
                format!(
                    "CREATE TABLE IF NOT EXISTS {index} (agent String, direct UInt8, stored Int64, \
                     written Int64, id UUID, verb String, registration String, authority String, \
                     body String CODEC(ZSTD(1))) \
                     ENGINE = ReplacingMergeTree(written) ORDER BY (agent, stored) SETTINGS index_granularity = 256"
                )
            } else {
                format!(
                    "CREATE TABLE IF NOT EXISTS {index} ({kind} String, direct UInt8, stored Int64) \
                     ENGINE = ReplacingMergeTree ORDER BY ({kind}, stored) SETTINGS index_granularity = 1024"
                )
            };
            self.create_missing(&index, &ddl).await?;
            views &= self.exists(&format!("{index}_mv")).await?;
        }
        if self
            .has_column(&format!("{}_by_agent", self.statements), "body")
            .await?
        {
            self.indexed.with_bodies();
        }
        let indexed = self.indexed_table();
        self.create_missing(
            &indexed,
            &format!(
                "CREATE TABLE IF NOT EXISTS {indexed} (through Int64) \
                 ENGINE = ReplacingMergeTree(through) ORDER BY tuple()"
            ),
        )
        .await?;
        if views {
            self.indexed.by_views();
        }
        // StatementRefs: one row per statement whose object is a StatementRef (its position,
        // its target, whether it voids it), filled by ClickHouse on every insert. Every query
        // reads the voided set and the StatementRef filter rule's targets from this small table
        // instead of scanning the statements' reference columns.
        let refs = format!("{}_refs", self.statements);
        let created = self
            .create_missing(
                &refs,
                &format!(
                    "CREATE TABLE IF NOT EXISTS {refs} (target UUID, stored Int64, voiding UInt8) \
                     ENGINE = MergeTree ORDER BY (target, stored)"
                ),
            )
            .await?;
        let select = format!(
            "SELECT statement_ref AS target, stored, voids != toUUID('{nil}') AS voiding FROM {t} \
             WHERE statement_ref != toUUID('{nil}')",
            nil = uuid::Uuid::nil(),
            t = self.statements
        );
        self.create_missing(
            &format!("{refs}_mv"),
            &format!("CREATE MATERIALIZED VIEW IF NOT EXISTS {refs}_mv TO {refs} AS {select}"),
        )
        .await?;
        if created {
            self.execute(&format!("INSERT INTO {refs} {select}"))
                .await?;
        }
        self.create_missing("xlrs_documents", crate::documents::SCHEMA)
            .await?;
        self.create_missing("xlrs_document_claims", crate::documents::CLAIMS_SCHEMA)
            .await?;
        let positions = self.positions_table();
        self.create_missing(
            &positions,
            &crate::ledger::SCHEMA.replace("{t}", &positions),
        )
        .await?;
        let admissions = self.admissions_table();
        self.create_missing(
            &admissions,
            &crate::admissions::SCHEMA.replace("{t}", &admissions),
        )
        .await?;
        self.migrate_content().await?;
        if let Some(events) = &self.events {
            // Ralph's layout, exactly (https://github.com/openfun/ralph, docs/tutorials/lrs),
            // merged as the statements table is. A table that exists (Aspects creates its
            // own) keeps its settings.
            self.create_missing(
                events,
                &format!(
                    "CREATE TABLE IF NOT EXISTS {events} (
                    event_id UUID NOT NULL,
                    emission_time DateTime64(6) NOT NULL,
                    event String NOT NULL
                ) ENGINE MergeTree ORDER BY (emission_time, event_id)
                PRIMARY KEY (emission_time, event_id){}",
                    merging
                        .map(|m| format!(" SETTINGS {m}"))
                        .unwrap_or_default()
                ),
            )
            .await?;
        }
        if version != Some(SCHEMA_VERSION) {
            self.execute(&format!(
                "INSERT INTO {meta} (key, value) VALUES ('schema_version', {SCHEMA_VERSION})"
            ))
            .await?;
        }
        Ok(())
    }

    /// Makes sure the statements table numbers each row's block (see [`crate::races`]): a
    /// table an earlier xlrs created is altered to, when the user may; otherwise one id
    /// written through two processes at once may be stored twice, as the README says.
    async fn number_blocks(&self) -> Result<(), StoreError> {
        let numbered: u64 = self
            .client
            .query(
                "SELECT count() FROM system.tables WHERE database = currentDatabase() \
                 AND name = {table:String} AND match(engine_full, {setting:String})",
            )
            .param("table", &self.statements)
            .param("setting", format!("\\b{BLOCK_NUMBERS} = (1|true)\\b"))
            .fetch_one()
            .await
            .map_err(failed)?;
        let numbered = numbered > 0
            || {
                let alter = format!(
                    "ALTER TABLE {} MODIFY SETTING {BLOCK_NUMBERS} = 1",
                    self.statements
                );
                match self
                    .execute(&crate::on_cluster(&alter, self.cluster.as_deref()))
                    .await
                {
                    Ok(()) => true,
                    Err(e) => {
                        tracing::warn!(error = %e, "the statements table does not number its blocks (it needs ALTER once): one id written through two processes at once may be stored twice");
                        false
                    }
                }
            };
        self.block_numbers
            .store(numbered, std::sync::atomic::Ordering::Release);
        Ok(())
    }

    /// Runs `ddl` (which creates `name`) only when there is no `name` yet, so a user with no
    /// right to create anything (Aspects' LRS user: INSERT and SELECT) can start xlrs once the
    /// layout exists. Whether it created it.
    pub(crate) async fn create_missing(&self, name: &str, ddl: &str) -> Result<bool, StoreError> {
        let exists = self.exists(name).await?;
        if !exists {
            self.execute(&crate::on_cluster(ddl, self.cluster.as_deref()))
                .await?;
        }
        Ok(!exists)
    }

    /// The merge setting of the tables written every round ([`MERGE_SELECTOR_BASE`]), when
    /// the server knows it (older servers may not) and the user may read its settings: else
    /// new tables merge as ClickHouse's default says.
    async fn merging(&self) -> Option<String> {
        let known = self
            .client
            .query(
                "SELECT count() FROM system.merge_tree_settings WHERE name = 'merge_selector_base'",
            )
            .fetch_one::<u64>()
            .await;
        match known {
            Ok(known) => {
                (known > 0).then(|| format!("merge_selector_base = {MERGE_SELECTOR_BASE}"))
            }
            Err(e) => {
                tracing::info!(error = %e, "the server's MergeTree settings could not be read: new tables merge as by default");
                None
            }
        }
    }

    /// Whether a table or view `name` exists.
    async fn exists(&self, name: &str) -> Result<bool, StoreError> {
        let exists: u8 = self
            .client
            .query(&format!("EXISTS TABLE {name}"))
            .fetch_one()
            .await
            .map_err(failed)?;
        Ok(exists != 0)
    }

    /// Whether the table `table` has a column `column`.
    async fn has_column(&self, table: &str, column: &str) -> Result<bool, StoreError> {
        let found: u64 = self
            .client
            .query(
                "SELECT count() FROM system.columns WHERE database = currentDatabase() \
                 AND table = {table:String} AND name = {column:String}",
            )
            .param("table", table)
            .param("column", column)
            .fetch_one()
            .await
            .map_err(failed)?;
        Ok(found > 0)
    }

    /// The newest position in the statements table (0 when it is empty).
    pub(crate) async fn last_stored(&self) -> Result<i64, StoreError> {
        self.client
            .query(&format!("SELECT max(stored) FROM {}", self.statements))
            .fetch_one()
            .await
            .map_err(failed)
    }
}
