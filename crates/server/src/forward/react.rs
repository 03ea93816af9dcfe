//! A reactor target (`url = "plugin:<name>"`): each batch of stored statements, with their
//! `stored`, is handed to the reactor plugin instead of POSTed to an LRS. What it answers maps
//! onto a target's answers, so the queue, its order, retries with backoff, refusals set
//! aside, the lease across processes and the metrics are forwarding's own.

use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::Value;

use super::queue::Waiting;
use super::send::Outcome;
use xlrs_plugin_host::bindings::v0_2::ReactionError;
use xlrs_plugin_host::PluginRegistry;
use xlrs_xapi::time::format_micros;

/// The status a reactor's `refuse` is recorded with among a target's refusals.
const REFUSED: StatusCode = StatusCode::UNPROCESSABLE_ENTITY;

/// Calls reactor `name` with a batch (on the plugin threads); a reactor that is not loaded,
/// traps or asks to retry leaves the batch waiting.
pub(super) async fn call(plugins: &Arc<PluginRegistry>, name: &str, batch: &[Waiting]) -> Outcome {
    let reactor = match plugins.reactor(name) {
        Ok(reactor) => reactor,
        Err(e) => return Outcome::Failed(e),
    };
    let texts: Vec<String> = batch
        .iter()
        .map(|w| {
            let mut statement = w.statement.clone();
            if let Value::Object(map) = &mut statement {
                map.insert("stored".into(), Value::String(format_micros(w.stored)));
            }
            statement.to_string()
        })
        .collect();
    match xlrs_plugin_host::threads::run(move || reactor.react(&texts)).await {
        Err(e) => Outcome::Failed(format!("reactor `{name}`: plugin task failed: {e}")),
        Ok(Err(failure)) => Outcome::Failed(format!("reactor `{name}` failed: {failure}")),
        Ok(Ok(Ok(()))) => Outcome::Stored,
        Ok(Ok(Err(ReactionError::Retry(why)))) => {
            Outcome::Failed(format!("reactor `{name}` asks to retry: {why}"))
        }
        Ok(Ok(Err(ReactionError::Refuse(why)))) => {
            Outcome::Refused(REFUSED, format!("reactor `{name}` refused: {why}"))
        }
    }
}
