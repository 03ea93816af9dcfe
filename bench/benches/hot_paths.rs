//! Criterion micro-benchmarks of what every statement POST pays for (issue 8): parsing the
//! body, validation, preparing the stored form (canonical hash, index fields), the
//! `format=canonical` rewrite of a GET, and one transformer plugin call over a batch of 100.
//!
//! `cargo bench -p xlrs-bench --bench hot_paths`; the plugin call needs
//! `bash scripts/build-plugins.sh` first (it is skipped, with a note, when the component is
//! missing).

// criterion_group! makes an undocumented function.
#![allow(missing_docs)]

use std::path::Path;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use serde_json::{json, Value};
use uuid::Uuid;
use xlrs_xapi::format::{self, Format};
use xlrs_xapi::version::XapiVersion;

/// The load tool's statement generator, so both measure the same statements.
#[allow(dead_code, unused_imports)]
#[path = "../src/statements.rs"]
mod statements;

/// Statement `n` as `xlrs-bench` sends it: an Open edX-like video statement of about 1.3 KB.
fn statement(n: u64) -> Value {
    statements::Generator::new(42).statement(0, n)
}

fn statement_paths(c: &mut Criterion) {
    let value = statement(7);
    let body = serde_json::to_vec(&value).expect("serializes");
    let authority = json!({"objectType": "Agent", "account": {"homePage": "http://localhost", "name": "admin"}});
    let mut group = c.benchmark_group("statement");
    group.throughput(Throughput::Bytes(body.len() as u64));
    group.bench_function("parse (strict JSON)", |b| {
        b.iter(|| xlrs_xapi::strict_json::from_slice(&body).expect("parses"))
    });
    group.bench_function("validate", |b| {
        b.iter(|| {
            xlrs_xapi::validate::validate_statement(&value, XapiVersion::V2_0_0).expect("valid")
        })
    });
    group.bench_function("prepare (hash, index fields, stored form)", |b| {
        b.iter_batched(
            || value.clone(),
            |v| {
                xlrs_xapi::statement::prepare(v, &authority, XapiVersion::V2_0_0, Uuid::new_v4)
                    .expect("ok")
            },
            BatchSize::SmallInput,
        )
    });
    group.bench_function("format=canonical", |b| {
        let languages = vec!["en-US".to_string()];
        b.iter_batched(
            || value.clone(),
            |mut v| format::apply(&mut v, Format::Canonical, &languages),
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

/// Plugins over a batch of 100, as a batch POST runs them: anonymize and the Python
/// verb-allowlist in their v0.2 forms (read fields, answer changes) and, when built
/// (`bench/plugins-v02.sh` builds anonymize's; verb-allowlist's is the commit before its v0.2
/// form), their v0.1 forms (whole statements in and out); require-fields (v0.2) on one field.
fn plugin_call(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut group = c.benchmark_group("plugin call");
    let verbs = format!(
        "verbs = \"{}\"",
        statements::VERBS.map(|(iri, _)| iri).join(",")
    );
    for (file, kind, config, label) in [
        (
            "anonymize.wasm",
            "transformer",
            "salt = \"bench\"",
            "anonymize transformer (v0.2), batch of 100",
        ),
        (
            "anonymize-v0_1.wasm",
            "transformer",
            "salt = \"bench\"",
            "anonymize transformer (v0.1), batch of 100",
        ),
        (
            "verb-allowlist.wasm",
            "validator",
            verbs.as_str(),
            "verb-allowlist validator (Python, v0.2), batch of 100",
        ),
        (
            "verb-allowlist-v0_1.wasm",
            "validator",
            verbs.as_str(),
            "verb-allowlist validator (Python, v0.1), batch of 100",
        ),
        (
            "require-fields.wasm",
            "validator",
            "fields = \"verb.id\"",
            "require-fields validator (v0.2) on verb.id, batch of 100",
        ),
    ] {
        let component = root.join("target/plugins").join(file);
        if !component.exists() {
            eprintln!(
                "skipping {label}: {} is missing (bash scripts/build-plugins.sh)",
                component.display()
            );
            continue;
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let plugin = dir.path().join("plugins/anonymize");
        std::fs::create_dir_all(&plugin).expect("plugin dir");
        std::fs::copy(&component, plugin.join("anonymize.wasm")).expect("copies");
        std::fs::write(
            plugin.join("plugin.toml"),
            format!("kind = \"{kind}\"\n[limits]\nmemory_mb = 256\n[config]\n{config}\n"),
        )
        .expect("writes");
        let registry = xlrs_plugin_host::PluginRegistry::open(
            xlrs_plugin_host::PluginPaths {
                dir: dir.path().join("plugins"),
                cache: dir.path().join("cache"),
                cache_key: dir.path().join("cache.key"),
                data: dir.path().join("data"),
            },
            false,
        )
        .expect("loads the plugin");
        let pipeline = registry.pipeline();
        let batch: Vec<Value> = (0..100).map(statement).collect();
        group.throughput(Throughput::Elements(batch.len() as u64));
        group.bench_function(label, |b| {
            b.iter_batched(
                || batch.clone(),
                |statements| {
                    pipeline
                        .run(statements, XapiVersion::V2_0_0)
                        .expect("transforms")
                },
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, statement_paths, plugin_call);
criterion_main!(benches);
