//! The indexes of the statements and documents collections, and their layout version.

use mongodb::bson::{doc, Document as Doc};
use mongodb::options::IndexOptions;
use mongodb::{Collection, IndexModel};
use xlrs_store::StoreError;

use crate::{failed, Mongo};

/// Layout version of the collections; bump with a migration when it changes.
const SCHEMA_VERSION: i64 = 1;

impl Mongo {
    /// Checks the layout version and creates the indexes (a no-op when they exist).
    pub(crate) async fn migrate(&self, db: &mongodb::Database) -> Result<(), StoreError> {
        let meta: Collection<Doc> = db.collection("xlrs_meta");
        let version = meta
            .find_one(doc! { "_id": "schema_version" })
            .await
            .map_err(failed)?
            .and_then(|d| d.get_i64("value").ok());
        if let Some(v) = version.filter(|v| *v > SCHEMA_VERSION) {
            return Err(StoreError::Internal(format!(
                "the database has layout version {v}, newer than this xlrs knows ({SCHEMA_VERSION}); upgrade xlrs"
            )));
        }
        let partial = |field: &str| {
            IndexOptions::builder()
                .partial_filter_expression(doc! { field: { "$exists": true } })
                .build()
        };
        let unique = |field: &str| {
            IndexOptions::builder()
                .unique(true)
                .partial_filter_expression(doc! { field: { "$exists": true } })
                .build()
        };
        let by_stored = |field: &str| doc! { field: 1, "xlrs.stored": 1 };
        // Each filter's index lists its key's statements in position order, so a page reads
        // only the documents it returns. Partial where Ralph's documents lack the field.
        let indexes = vec![
            IndexModel::builder()
                .keys(doc! { "xlrs.id": 1 })
                .options(unique("xlrs.id"))
                .build(),
            IndexModel::builder()
                .keys(doc! { "xlrs.stored": 1 })
                .options(unique("xlrs.stored"))
                .build(),
            IndexModel::builder().keys(by_stored("xlrs.agents")).build(),
            IndexModel::builder()
                .keys(by_stored("xlrs.direct_agents"))
                .build(),
            IndexModel::builder()
                .keys(by_stored("xlrs.activities"))
                .build(),
            IndexModel::builder()
                .keys(by_stored("xlrs.direct_activities"))
                .build(),
            IndexModel::builder().keys(by_stored("xlrs.verb")).build(),
            IndexModel::builder()
                .keys(by_stored("xlrs.registration"))
                .options(partial("xlrs.registration"))
                .build(),
            IndexModel::builder()
                .keys(by_stored("xlrs.authority"))
                .build(),
            // Statements referring to others, in position order (few), and voiding ones.
            IndexModel::builder()
                .keys(doc! { "xlrs.stored": 1, "xlrs.ref": 1 })
                .options(partial("xlrs.ref"))
                .build(),
            IndexModel::builder()
                .keys(doc! { "xlrs.voids": 1 })
                .options(partial("xlrs.voids"))
                .build(),
        ];
        self.statements
            .create_indexes(indexes)
            .await
            .map_err(failed)?;
        self.documents
            .create_index(
                IndexModel::builder()
                    .keys(doc! { "kind": 1, "activity_id": 1, "agent": 1, "registration": 1, "id": 1 })
                    .options(IndexOptions::builder().unique(true).build())
                    .build(),
            )
            .await
            .map_err(failed)?;
        self.positions
            .create_index(IndexModel::builder().keys(doc! { "at": 1 }).build())
            .await
            .map_err(failed)?;
        self.migrate_content().await?;
        if version != Some(SCHEMA_VERSION) {
            meta.replace_one(
                doc! { "_id": "schema_version" },
                doc! { "_id": "schema_version", "value": SCHEMA_VERSION },
            )
            .upsert(true)
            .await
            .map_err(failed)?;
        }
        Ok(())
    }

    /// The newest position in the statements collection (0 when none).
    pub(crate) async fn last_stored(&self) -> Result<i64, StoreError> {
        let newest = self
            .statements
            .find_one(doc! { "xlrs.stored": { "$exists": true } })
            .sort(doc! { "xlrs.stored": -1 })
            .projection(doc! { "xlrs.stored": 1 })
            .await
            .map_err(failed)?;
        Ok(newest
            .and_then(|d| d.get_document("xlrs").ok()?.get_i64("stored").ok())
            .unwrap_or(0))
    }
}
