//! `GET /metrics`: Prometheus text exposition of request counts, latencies and statement
//! totals. Plain atomics: no registry crate, nothing allocated per request.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use xlrs_store::metered::ErrorCounts;

use super::AppState;

/// Upper bounds (seconds) of the request latency histogram buckets.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

/// Resource groups requests are counted under.
const RESOURCES: [&str; 6] = [
    "statements",
    "documents",
    "agents_activities",
    "about",
    "operations",
    "other",
];
/// Status classes requests are counted under.
const CLASSES: [&str; 4] = ["2xx", "4xx", "5xx", "other"];

/// The server's counters.
#[derive(Default)]
pub struct Metrics {
    requests: [[AtomicU64; 4]; 6],
    latency_buckets: [AtomicU64; 12],
    latency_count: AtomicU64,
    latency_sum_micros: AtomicU64,
    /// Statements acknowledged as stored.
    pub statements_stored: AtomicU64,
    /// Statements in batches refused (validation, conflict, store error).
    pub statements_rejected: AtomicU64,
    /// Store failures, counted as they come out of the stores.
    pub store_errors: Arc<ErrorCounts>,
    /// Statements stored by admission, by (plugin, rule, repaired).
    admissions: Mutex<BTreeMap<(String, &'static str, bool), u64>>,
}

fn resource(path: &str) -> usize {
    let p = path.strip_prefix("/xAPI").unwrap_or(path);
    if p.starts_with("/statements") {
        0
    } else if p.starts_with("/activities/") || p.starts_with("/agents/") {
        1
    } else if p == "/activities" || p == "/agents" {
        2
    } else if p == "/about" {
        3
    } else if p == "/health" || p == "/metrics" {
        4
    } else {
        5
    }
}

impl Metrics {
    /// Counts a statement stored by admission plugin `plugin`, once per rule it broke.
    pub fn count_admission(
        &self,
        plugin: &str,
        rules: &[xlrs_xapi::validate::Rule],
        repaired: bool,
    ) {
        let mut counts = self.admissions.lock().unwrap_or_else(|p| p.into_inner());
        for rule in rules {
            *counts
                .entry((plugin.to_string(), rule.as_str(), repaired))
                .or_default() += 1;
        }
    }

    fn observe(&self, path: &str, status: u16, started: Instant) {
        let class = match status {
            200..=299 => 0,
            400..=499 => 1,
            500..=599 => 2,
            _ => 3,
        };
        self.requests[resource(path)][class].fetch_add(1, Ordering::Relaxed);
        let secs = started.elapsed().as_secs_f64();
        for (i, bound) in BUCKETS.iter().enumerate() {
            if secs <= *bound {
                self.latency_buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        self.latency_count.fetch_add(1, Ordering::Relaxed);
        self.latency_sum_micros
            .fetch_add((secs * 1e6) as u64, Ordering::Relaxed);
    }

    /// The counters as JSON, for the console's live view (it computes rates between two).
    pub fn snapshot(&self) -> serde_json::Value {
        let load = |n: &AtomicU64| n.load(Ordering::Relaxed);
        let requests: serde_json::Map<String, serde_json::Value> = RESOURCES
            .iter()
            .enumerate()
            .map(|(r, name)| {
                let classes: serde_json::Map<String, serde_json::Value> = CLASSES
                    .iter()
                    .enumerate()
                    .map(|(c, class)| (class.to_string(), load(&self.requests[r][c]).into()))
                    .collect();
                (name.to_string(), classes.into())
            })
            .collect();
        let buckets: Vec<serde_json::Value> = BUCKETS
            .iter()
            .enumerate()
            .map(|(i, le)| serde_json::json!({"le": le, "count": load(&self.latency_buckets[i])}))
            .collect();
        serde_json::json!({
            "requests": requests,
            "latency": {
                "buckets": buckets,
                "count": load(&self.latency_count),
                "sum_seconds": load(&self.latency_sum_micros) as f64 / 1e6,
            },
            "statements": {
                "stored": load(&self.statements_stored),
                "rejected": load(&self.statements_rejected),
            },
            "store_errors": {
                "unavailable": load(&self.store_errors.unavailable),
                "internal": load(&self.store_errors.internal),
            },
            "admissions": self.admission_counts(),
        })
    }

    /// Statements stored by admission since start, by plugin, rule and how.
    fn admission_counts(&self) -> Vec<serde_json::Value> {
        let admissions = self.admissions.lock().unwrap_or_else(|p| p.into_inner());
        admissions
            .iter()
            .map(|((plugin, rule, repaired), n)| {
                serde_json::json!({
                    "plugin": plugin,
                    "rule": rule,
                    "how": if *repaired { "repaired" } else { "waived" },
                    "count": n,
                })
            })
            .collect()
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP xlrs_http_requests_total HTTP requests by resource and status class."
        );
        let _ = writeln!(out, "# TYPE xlrs_http_requests_total counter");
        for (r, name) in RESOURCES.iter().enumerate() {
            for (c, class) in CLASSES.iter().enumerate() {
                let n = self.requests[r][c].load(Ordering::Relaxed);
                let _ = writeln!(
                    out,
                    "xlrs_http_requests_total{{resource=\"{name}\",status=\"{class}\"}} {n}"
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP xlrs_http_request_duration_seconds Request latency."
        );
        let _ = writeln!(out, "# TYPE xlrs_http_request_duration_seconds histogram");
        for (i, bound) in BUCKETS.iter().enumerate() {
            let n = self.latency_buckets[i].load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "xlrs_http_request_duration_seconds_bucket{{le=\"{bound}\"}} {n}"
            );
        }
        let count = self.latency_count.load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "xlrs_http_request_duration_seconds_bucket{{le=\"+Inf\"}} {count}"
        );
        let sum = self.latency_sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "xlrs_http_request_duration_seconds_sum {sum}");
        let _ = writeln!(out, "xlrs_http_request_duration_seconds_count {count}");
        for (name, help, value) in [
            (
                "xlrs_statements_stored_total",
                "Statements acknowledged as stored.",
                &self.statements_stored,
            ),
            (
                "xlrs_statements_rejected_total",
                "Statements in refused batches.",
                &self.statements_rejected,
            ),
        ] {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} counter");
            let _ = writeln!(out, "{name} {}", value.load(Ordering::Relaxed));
        }
        let _ = writeln!(
            out,
            "# HELP xlrs_store_errors_total Store failures (the server's, not the client's), by kind."
        );
        let _ = writeln!(out, "# TYPE xlrs_store_errors_total counter");
        let errors = &self.store_errors;
        for (kind, n) in [
            ("unavailable", &errors.unavailable),
            ("internal", &errors.internal),
        ] {
            let _ = writeln!(
                out,
                "xlrs_store_errors_total{{kind=\"{kind}\"}} {}",
                n.load(Ordering::Relaxed)
            );
        }
        let _ = writeln!(
            out,
            "# HELP xlrs_admissions_total Statements stored although they broke a rule, by the admission plugin that admitted them, the rule, and how (waived: as sent; repaired)."
        );
        let _ = writeln!(out, "# TYPE xlrs_admissions_total counter");
        let admissions = self.admissions.lock().unwrap_or_else(|p| p.into_inner());
        for ((plugin, rule, repaired), n) in admissions.iter() {
            let how = if *repaired { "repaired" } else { "waived" };
            let plugin = plugin.replace('\\', "\\\\").replace('"', "\\\"");
            let _ = writeln!(
                out,
                "xlrs_admissions_total{{plugin=\"{plugin}\",rule=\"{rule}\",how=\"{how}\"}} {n}"
            );
        }
        out
    }
}

/// Counts every request and its latency.
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let path = request.uri().path().to_string();
    let response = next.run(request).await;
    state
        .metrics
        .observe(&path, response.status().as_u16(), started);
    response
}

/// `GET /metrics`.
pub async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render()
            + &state.plugins.metrics()
            + &state
                .forwarder
                .as_ref()
                .map(|f| f.metrics())
                .unwrap_or_default()
            + &state
                .store_gauges
                .as_ref()
                .map(|g| g.render())
                .unwrap_or_default(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_counted_by_resource_and_class() {
        let m = Metrics::default();
        m.observe("/xAPI/statements", 200, Instant::now());
        m.observe("/xAPI/activities/state", 404, Instant::now());
        let text = m.render();
        assert!(text.contains("xlrs_http_requests_total{resource=\"statements\",status=\"2xx\"} 1"));
        assert!(text.contains("xlrs_http_requests_total{resource=\"documents\",status=\"4xx\"} 1"));
        assert!(text.contains("xlrs_http_request_duration_seconds_count 2"));
    }
}
