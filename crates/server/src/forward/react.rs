//! A reactor target (`url = "plugin:<name>"`): each batch of stored statements, with their
//! `stored`, is handed to the reactor plugin instead of POSTed to an LRS, and the statements
//! it derives are stored through the LRS's write path before the batch counts as handled.
//! What it answers maps onto a target's answers, so the queue, its order, retries with
//! backoff, refusals set aside, the lease across processes and the metrics are forwarding's
//! own.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use reqwest::StatusCode;
use serde_json::Value;

use super::queue::Waiting;
use super::send::Outcome;
use xlrs_plugin_host::bindings::v0_2::ReactionError;
use xlrs_plugin_host::PluginRegistry;
use xlrs_xapi::time::format_micros;

/// The status a reactor's `refuse` is recorded with among a target's refusals.
const REFUSED: StatusCode = StatusCode::UNPROCESSABLE_ENTITY;

/// Why statements a reactor derived were not stored.
pub enum NotStored {
    /// The LRS refuses them (400, 409): offering the batch again cannot change that.
    Refused(String),
    /// Not now (the store out of reach, a plugin failing).
    Failed(String),
}

/// Stores statements reactor `name` derived, through the LRS's write path.
pub type DerivedWriter = Arc<
    dyn Fn(String, Vec<Value>) -> Pin<Box<dyn Future<Output = Result<(), NotStored>> + Send>>
        + Send
        + Sync,
>;

/// What reactor targets need: the plugins, and (once the server is built) the write path.
pub struct Reactors {
    /// Where the reactor plugins are.
    pub plugins: Arc<PluginRegistry>,
    /// How derived statements are stored; None until set, and again once the server stops.
    pub writer: Mutex<Option<DerivedWriter>>,
}

impl Reactors {
    fn writer(&self) -> Option<DerivedWriter> {
        self.writer
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// Calls reactor `name` with a batch (on the plugin threads) and stores what it derived; a
/// reactor that is not loaded, traps or asks to retry leaves the batch waiting.
pub(super) async fn call(reactors: &Reactors, name: &str, batch: &[Waiting]) -> Outcome {
    let reactor = match reactors.plugins.reactor(name) {
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
        Ok(Ok(Ok(derived))) => store_derived(reactors, name, derived).await,
        Ok(Ok(Err(ReactionError::Retry(why)))) => {
            Outcome::Failed(format!("reactor `{name}` asks to retry: {why}"))
        }
        Ok(Ok(Err(ReactionError::Refuse(why)))) => {
            Outcome::Refused(REFUSED, format!("reactor `{name}` refused: {why}"))
        }
    }
}

/// Stores what a reactor derived (nothing to do when it derived nothing).
async fn store_derived(reactors: &Reactors, name: &str, derived: Vec<String>) -> Outcome {
    if derived.is_empty() {
        return Outcome::Stored;
    }
    let statements: Result<Vec<Value>, _> =
        derived.iter().map(|t| serde_json::from_str(t)).collect();
    let statements = match statements {
        Ok(statements) => statements,
        // Offering the batch again would derive the same: set it aside.
        Err(e) => {
            return Outcome::Refused(
                REFUSED,
                format!("reactor `{name}` derived a statement that is not JSON: {e}"),
            )
        }
    };
    let Some(writer) = reactors.writer() else {
        return Outcome::Failed("the server is not serving: derived statements wait".into());
    };
    match writer(name.to_string(), statements).await {
        Ok(()) => Outcome::Stored,
        Err(NotStored::Refused(why)) => Outcome::Refused(
            REFUSED,
            format!("the statements reactor `{name}` derived were refused: {why}"),
        ),
        Err(NotStored::Failed(why)) => Outcome::Failed(format!(
            "the statements reactor `{name}` derived were not stored: {why}"
        )),
    }
}
