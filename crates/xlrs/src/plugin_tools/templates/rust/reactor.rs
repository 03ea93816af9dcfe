//! `{{name}}` — an xlrs reactor (wit/v0.2): called with statements after the LRS stored them,
//! in order, at least once. It logs each statement whose verb is `verb` in plugin.toml and
//! derives nothing. Replace `react` with your reaction; deploy it with a forwarding target
//! `url = "plugin:{{name}}"`.

use serde_json::Value;
use xlrs_plugin_sdk::{config, export_reactor, log, Level, ReactionError, Reactor};

struct Plugin {
    /// The verb reacted to.
    verb: String,
}

impl Reactor for Plugin {
    fn new() -> Self {
        Plugin {
            verb: config("verb").unwrap_or_else(|| "http://adlnet.gov/expapi/verbs/passed".into()),
        }
    }

    fn react(&mut self, statements: &[Value]) -> Result<Vec<Value>, ReactionError> {
        for s in statements {
            if s["verb"]["id"].as_str() == Some(self.verb.as_str()) {
                log(Level::Info, &format!("stored: {}", s["id"]));
            }
        }
        // Derived statements returned here are stored by the LRS (give them ids computed
        // from their sources); Err(ReactionError::Retry(..)) offers the batch again later.
        Ok(Vec::new())
    }
}

export_reactor!(Plugin);
