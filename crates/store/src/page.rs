//! A page of a statement query made from the rows the store found.

use xlrs_xapi::query::StatementQuery;

use crate::Page;

/// A row a store found: position, `stored` (µs), statement JSON.
pub type Row = (i64, i64, String);

/// Merges two lists of rows sorted in query order (the statements matching the filters, and
/// those whose StatementRef targets one), dropping repeated positions, into one page.
pub fn merge_page(q: &StatementQuery, a: Vec<Row>, b: Vec<Row>) -> Page {
    let mut rows: Vec<Row> = a.into_iter().chain(b).collect();
    if q.ascending {
        rows.sort_by_key(|r| r.0);
    } else {
        rows.sort_by_key(|r| std::cmp::Reverse(r.0));
    }
    rows.dedup_by_key(|r| r.0);
    let more = (rows.len() > q.limit).then(|| rows[q.limit - 1].0);
    rows.truncate(q.limit);
    Page {
        last_stored: rows.iter().map(|r| r.1).max(),
        statements: rows.into_iter().map(|r| r.2).collect(),
        more,
    }
}
