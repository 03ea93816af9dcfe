//! A replicated ClickHouse cluster (`clickhouse.cluster`): every table is created `ON CLUSTER`
//! with the replicated variant of its engine, and the client asks for quorum inserts and
//! sequentially consistent reads, so what one replica acknowledged every replica serves and
//! the deduplicated claims and ledger reservations hold cluster-wide (deduplication is kept in
//! Keeper, `replicated_deduplication_window`).

/// `ddl` (a `CREATE … IF NOT EXISTS name …` of this crate) for the cluster `cluster`: `ON
/// CLUSTER` after the name, replicated engines (replica path and name from the server's
/// `default_replica_path` / `default_replica_name`), the replicated deduplication window.
pub(crate) fn clustered(ddl: &str, cluster: &str) -> String {
    const EXISTS: &str = "IF NOT EXISTS ";
    let mut out = match ddl.find(EXISTS) {
        Some(at) => {
            let name_at = at + EXISTS.len();
            let name_len = ddl[name_at..]
                .find(|c: char| c.is_whitespace() || c == '(')
                .unwrap_or(ddl.len() - name_at);
            let (head, tail) = ddl.split_at(name_at + name_len);
            format!("{head} ON CLUSTER {cluster}{tail}")
        }
        None => ddl.to_owned(),
    };
    for (plain, replicated) in [
        (
            "ENGINE = ReplacingMergeTree",
            "ENGINE = ReplicatedReplacingMergeTree",
        ),
        ("ENGINE = MergeTree", "ENGINE = ReplicatedMergeTree"),
        ("ENGINE MergeTree", "ENGINE ReplicatedMergeTree"),
        (
            "non_replicated_deduplication_window",
            "replicated_deduplication_window",
        ),
    ] {
        out = out.replace(plain, replicated);
    }
    out
}

/// Client settings on a cluster: an insert is acknowledged once a majority of replicas hold
/// it, one at a time, and a read sees every acknowledged insert. An insert into the statements
/// table also writes the StatementRefs table through a view, each part with its own quorum, so
/// the view's part may be refused after the table's landed; sent again ([`crate::turns`]), the
/// table's block is deduplicated and, with `deduplicate_blocks_in_dependent_materialized_views`,
/// the view gets its block (once) rather than being skipped with it.
pub(crate) const CLIENT_SETTINGS: [(&str, &str); 4] = [
    ("insert_quorum", "auto"),
    ("insert_quorum_parallel", "0"),
    ("select_sequential_consistency", "1"),
    ("deduplicate_blocks_in_dependent_materialized_views", "1"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_is_created_on_the_cluster_with_the_replicated_engine() {
        let ddl = "CREATE TABLE IF NOT EXISTS xlrs_document_claims (\n document String\n) \
                   ENGINE = MergeTree ORDER BY document SETTINGS non_replicated_deduplication_window = 100000";
        assert_eq!(
            clustered(ddl, "lrs"),
            "CREATE TABLE IF NOT EXISTS xlrs_document_claims ON CLUSTER lrs (\n document String\n) \
             ENGINE = ReplicatedMergeTree ORDER BY document SETTINGS replicated_deduplication_window = 100000"
        );
        assert_eq!(
            clustered(
                "CREATE TABLE IF NOT EXISTS m (key String) ENGINE = ReplacingMergeTree(v) ORDER BY key",
                "lrs"
            ),
            "CREATE TABLE IF NOT EXISTS m ON CLUSTER lrs (key String) \
             ENGINE = ReplicatedReplacingMergeTree(v) ORDER BY key"
        );
    }

    #[test]
    fn views_and_the_database_go_on_the_cluster_too() {
        assert_eq!(
            clustered(
                "CREATE MATERIALIZED VIEW IF NOT EXISTS a_mv TO a AS SELECT 1",
                "c"
            ),
            "CREATE MATERIALIZED VIEW IF NOT EXISTS a_mv ON CLUSTER c TO a AS SELECT 1"
        );
        assert_eq!(
            clustered("CREATE DATABASE IF NOT EXISTS xapi", "c"),
            "CREATE DATABASE IF NOT EXISTS xapi ON CLUSTER c"
        );
        assert_eq!(
            clustered("CREATE TABLE IF NOT EXISTS e (x UInt8) ENGINE MergeTree ORDER BY x", "c"),
            "CREATE TABLE IF NOT EXISTS e ON CLUSTER c (x UInt8) ENGINE ReplicatedMergeTree ORDER BY x"
        );
    }
}
