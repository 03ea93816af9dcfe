//! Statement queries on the Elasticsearch query index: one `bool` query per page, sorted on the
//! unique position `stored` and resumed with `search_after` (never a deep `from`), bounded (see
//! `Inner::bounded`) so a round being written is never seen.

use serde_json::{json, Value};

use xlrs_store::StoreError;
use xlrs_xapi::query::StatementQuery;

use crate::Elasticsearch;

/// The most hits Elasticsearch returns for one search (its default `max_result_window`).
const MAX_HITS: usize = 10_000;

/// Term conditions of the query's filters (agent, verb, activity, registration) on the fields
/// under `prefix`: `""` for the statement itself, `"target."` for the statement its
/// StatementRef points at.
fn filter_terms(q: &StatementQuery, prefix: &str) -> Vec<Value> {
    let mut terms = Vec::new();
    let mut term = |field: &str, value: &String| {
        terms.push(json!({"term": {format!("{prefix}{field}"): value}}));
    };
    if let Some(agent) = &q.agent {
        term(
            if q.related_agents {
                "agents"
            } else {
                "direct_agents"
            },
            agent,
        );
    }
    if let Some(verb) = &q.verb {
        term("verb", verb);
    }
    if let Some(activity) = &q.activity {
        term(
            if q.related_activities {
                "activities"
            } else {
                "direct_activities"
            },
            activity,
        );
    }
    if let Some(registration) = &q.registration {
        term("registration", registration);
    }
    terms
}

/// The search body of one page of `size` hits: the filters on the statement or on the statement
/// it references (xAPI "Filter Conditions for StatementRefs"), not voided (unless asked), within the time
/// window and the cursor, at positions up to `bound`.
pub(crate) fn search_body(
    q: &StatementQuery,
    bound: i64,
    size: usize,
    after: Option<i64>,
) -> Value {
    let mut stored = json!({"lte": q.until.map_or(bound, |u| u.min(bound))});
    if let Some(since) = q.since {
        stored["gt"] = json!(since);
    }
    let mut filter = vec![json!({"range": {"stored": stored}})];
    if let Some(authority) = &q.authority {
        filter.push(json!({"term": {"authority": authority}}));
    }
    let direct = filter_terms(q, "");
    if !direct.is_empty() {
        let mut referenced = filter_terms(q, "target.");
        referenced.push(json!({"range": {"target.stored": {"lte": bound}}}));
        filter.push(json!({"bool": {
            "should": [
                {"bool": {"filter": direct}},
                {"bool": {"filter": referenced}},
            ],
            "minimum_should_match": 1,
        }}));
    }
    let mut body = json!({
        "size": size,
        "_source": ["stored", "body"],
        "track_total_hits": false,
        "query": {"bool": {"filter": filter}},
        "sort": [{"stored": {"order": if q.ascending { "asc" } else { "desc" }}}],
    });
    if !q.include_voided {
        body["query"]["bool"]["must_not"] = json!([{"range": {"voided_at": {"lte": bound}}}]);
    }
    if let Some(after) = after {
        body["search_after"] = json!([after]);
    }
    body
}

impl Elasticsearch {
    /// The query's first `limit + 1` statements as (position, stored, body), in query order.
    pub(crate) async fn search(
        &self,
        q: &StatementQuery,
        bound: i64,
    ) -> Result<Vec<(i64, i64, String)>, StoreError> {
        let wanted = q.limit + 1;
        let mut rows = Vec::with_capacity(wanted.min(MAX_HITS));
        let mut after = q.after;
        while rows.len() < wanted {
            let size = (wanted - rows.len()).min(MAX_HITS);
            let hits = self
                .es
                .hits(&self.query_index, &search_body(q, bound, size, after))
                .await?;
            for hit in &hits {
                let source = hit.get("_source").unwrap_or(&Value::Null);
                let (Some(stored), Some(body)) = (
                    source.get("stored").and_then(Value::as_i64),
                    source.get("body").and_then(Value::as_str),
                ) else {
                    return Err(StoreError::Internal(format!(
                        "a document of {} has no stored or body",
                        self.query_index
                    )));
                };
                rows.push((stored, stored, body.to_string()));
                after = Some(stored);
            }
            if hits.len() < size {
                break;
            }
        }
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_filtered_query_also_matches_on_the_referenced_statement() {
        let q = StatementQuery {
            verb: Some("http://example.org/verb".into()),
            limit: 10,
            ..StatementQuery::default()
        };
        let body = search_body(&q, 42, 11, None);
        let should = &body["query"]["bool"]["filter"][1]["bool"]["should"];
        assert_eq!(
            should[0]["bool"]["filter"][0]["term"]["verb"],
            json!("http://example.org/verb")
        );
        assert_eq!(
            should[1]["bool"]["filter"][0]["term"]["target.verb"],
            json!("http://example.org/verb")
        );
        assert_eq!(
            body["query"]["bool"]["filter"][0]["range"]["stored"]["lte"],
            json!(42)
        );
    }

    #[test]
    fn an_unfiltered_query_has_no_reference_clause_and_resumes_after_the_cursor() {
        let q = StatementQuery {
            limit: 10,
            ascending: true,
            ..StatementQuery::default()
        };
        let body = search_body(&q, 42, 11, Some(7));
        assert_eq!(
            body["query"]["bool"]["filter"].as_array().map(Vec::len),
            Some(1)
        );
        assert_eq!(body["search_after"], json!([7]));
        assert_eq!(body["sort"][0]["stored"]["order"], json!("asc"));
    }
}
