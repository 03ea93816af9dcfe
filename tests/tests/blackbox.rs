//! Black-box tests: the real binary over HTTP. One test binary with one module per area.

const XLRS: &str = env!("CARGO_BIN_EXE_xlrs");

#[path = "blackbox/about_health.rs"]
mod about_health;
#[path = "blackbox/admin.rs"]
mod admin;
#[path = "blackbox/admission.rs"]
mod admission;
#[path = "blackbox/aspects.rs"]
mod aspects;
#[path = "blackbox/auth.rs"]
mod auth;
#[path = "blackbox/cli.rs"]
mod cli;
#[path = "blackbox/console.rs"]
mod console;
#[path = "blackbox/corpus.rs"]
mod corpus;
#[path = "blackbox/documents.rs"]
mod documents;
#[path = "blackbox/documents_params/mod.rs"]
mod documents_params;
#[path = "blackbox/documents_rules.rs"]
mod documents_rules;
#[path = "blackbox/durability.rs"]
mod durability;
#[path = "blackbox/erasure.rs"]
mod erasure;
#[path = "blackbox/field_plugins.rs"]
mod field_plugins;
#[path = "blackbox/forwarding.rs"]
mod forwarding;
#[path = "blackbox/limits.rs"]
mod limits;
#[path = "blackbox/oidc.rs"]
mod oidc;
#[path = "blackbox/openedx.rs"]
mod openedx;
#[path = "blackbox/operations.rs"]
mod operations;
#[path = "blackbox/plugin_examples.rs"]
mod plugin_examples;
#[path = "blackbox/plugin_http.rs"]
mod plugin_http;
#[path = "blackbox/plugin_semantics.rs"]
mod plugin_semantics;
#[path = "blackbox/plugins.rs"]
mod plugins;
#[path = "blackbox/profile_validation.rs"]
mod profile_validation;
#[path = "blackbox/reactions.rs"]
mod reactions;
#[path = "blackbox/replicas.rs"]
mod replicas;
#[path = "blackbox/replicas_admissions.rs"]
mod replicas_admissions;
#[path = "blackbox/replicas_erasure.rs"]
mod replicas_erasure;
#[path = "blackbox/replicas_races.rs"]
mod replicas_races;
#[path = "blackbox/replicas_retention.rs"]
mod replicas_retention;
#[path = "blackbox/retention.rs"]
mod retention;
#[path = "blackbox/statements_get.rs"]
mod statements_get;
#[path = "blackbox/statements_rules/mod.rs"]
mod statements_rules;
#[path = "blackbox/statements_write.rs"]
mod statements_write;
#[path = "blackbox/store_clickhouse/mod.rs"]
mod store_clickhouse;
#[path = "blackbox/store_elasticsearch.rs"]
mod store_elasticsearch;
#[path = "blackbox/store_mongodb.rs"]
mod store_mongodb;
#[path = "blackbox/store_plugin.rs"]
mod store_plugin;
#[path = "blackbox/toolbox.rs"]
mod toolbox;
#[path = "blackbox/toolbox_remote.rs"]
mod toolbox_remote;
