//! Statement queries: each filter's index lists its key's statements in position order, and
//! the statements referring to matches are found through the index of referring statements.

use mongodb::bson::{doc, Document as Doc};
use xlrs_store::page::{merge_page, Row};
use xlrs_store::{Page, StoreError};
use xlrs_xapi::query::StatementQuery;

use crate::statements::{found, projection};
use crate::{collect, failed, Mongo};

impl Mongo {
    /// A page of the statements matching `q`, with those whose StatementRef targets one.
    pub(crate) async fn query_page(&self, q: &StatementQuery) -> Result<Page, StoreError> {
        let filters = filters(q);
        let mut direct = window(q);
        direct.extend(filters.clone());
        if filters.is_empty() {
            let rows = self.find_page(direct, q).await?;
            return Ok(merge_page(q, rows, Vec::new()));
        }
        let (direct, referring) =
            tokio::join!(self.find_page(direct, q), self.referring_page(filters, q));
        Ok(merge_page(q, direct?, referring?))
    }

    /// Statements matching `filter`, sorted and limited as the query asks.
    async fn find_page(&self, filter: Doc, q: &StatementQuery) -> Result<Vec<Row>, StoreError> {
        let cursor = self
            .statements
            .find(filter)
            .sort(doc! { "xlrs.stored": direction(q) })
            .limit(q.limit as i64 + 1)
            .projection(projection())
            .await
            .map_err(failed)?;
        rows(collect(cursor).await?)
    }

    /// Statements whose StatementRef targets a statement matching the query's filters (xAPI
    /// "Filter Conditions for StatementRefs"), scanned in position order through the index
    /// of referring statements.
    async fn referring_page(
        &self,
        filters: Doc,
        q: &StatementQuery,
    ) -> Result<Vec<Row>, StoreError> {
        let mut window = window(q);
        window.insert("xlrs.ref", doc! { "$exists": true });
        let mut on_target = Doc::new();
        for (k, v) in filters {
            on_target.insert(format!("target.{k}"), v);
        }
        let pipeline = vec![
            doc! { "$match": window },
            doc! { "$sort": { "xlrs.stored": direction(q) } },
            doc! { "$lookup": {
                "from": self.statements.name(),
                "localField": "xlrs.ref",
                "foreignField": "xlrs.id",
                "as": "target",
            } },
            doc! { "$match": on_target },
            doc! { "$limit": q.limit as i64 + 1 },
            doc! { "$project": projection() },
        ];
        let cursor = self.statements.aggregate(pipeline).await.map_err(failed)?;
        rows(collect(cursor).await?)
    }
}

fn direction(q: &StatementQuery) -> i32 {
    if q.ascending {
        1
    } else {
        -1
    }
}

/// Query rows `(position, stored, body)` of found documents.
fn rows(docs: Vec<Doc>) -> Result<Vec<Row>, StoreError> {
    docs.into_iter()
        .map(|d| found(d).map(|(stored, body)| (stored, stored, body)))
        .collect()
}

/// Conditions of the query's filters (agent, verb, activity, registration) on `xlrs`.
fn filters(q: &StatementQuery) -> Doc {
    let mut f = Doc::new();
    if let Some(agent) = &q.agent {
        let field = if q.related_agents {
            "xlrs.agents"
        } else {
            "xlrs.direct_agents"
        };
        f.insert(field, agent);
    }
    if let Some(verb) = &q.verb {
        f.insert("xlrs.verb", verb);
    }
    if let Some(activity) = &q.activity {
        let field = if q.related_activities {
            "xlrs.activities"
        } else {
            "xlrs.direct_activities"
        };
        f.insert(field, activity);
    }
    if let Some(registration) = &q.registration {
        f.insert("xlrs.registration", registration);
    }
    f
}

/// Conditions on the returned statement itself: not voided, time window, cursor, authority.
fn window(q: &StatementQuery) -> Doc {
    let mut stored = doc! { "$exists": true };
    // Bounds from below: `since`, and the cursor when ascending (the tighter of the two).
    let mut lower = q.since;
    if let (true, Some(after)) = (q.ascending, q.after) {
        lower = Some(lower.map_or(after, |since| since.max(after)));
    }
    if let Some(lower) = lower {
        stored.insert("$gt", lower);
    }
    if let Some(until) = q.until {
        stored.insert("$lte", until);
    }
    if let (false, Some(after)) = (q.ascending, q.after) {
        stored.insert("$lt", after);
    }
    let mut w = doc! { "xlrs.stored": stored };
    if !q.include_voided {
        w.insert("xlrs.voided", false);
    }
    if let Some(authority) = &q.authority {
        w.insert("xlrs.authority", authority);
    }
    w
}
