//! A pipeline: the admission plugins (for statements the host's validation refused), every
//! validator, then the transformers in order, over one request batch. Built immutable and
//! swapped whole, so a request runs on one consistent set of plugins.

use std::sync::Arc;

use serde_json::Value;

use xlrs_xapi::validate::{validate_waiving, Rule};
use xlrs_xapi::version::XapiVersion;

use crate::admission::{Decision, Refused};
use crate::bindings::PluginError;
use crate::instance::{CallFailure, PluginInstance};

/// The plugins a batch passes through.
#[derive(Default)]
pub struct Pipeline {
    /// Validators, in order.
    pub validators: Vec<Arc<PluginInstance>>,
    /// Transformers, in order.
    pub transformers: Vec<Arc<PluginInstance>>,
    /// Admission plugins, in order.
    pub admission: Vec<Arc<PluginInstance>>,
}

/// One statement (or the whole batch) a plugin refused, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// Index of the statement in the batch, when the plugin named one.
    pub index: Option<usize>,
    /// The plugin's message.
    pub message: String,
}

/// How a batch failed in the pipeline.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// A validator (or a transformer naming a statement) refused the batch: a 400 for the
    /// client, listing every error the plugin gave, in its order (at least one).
    #[error("plugin `{plugin}` rejected {}{}", describe(&errors[0]), more(errors.len()))]
    Rejected {
        /// The plugin.
        plugin: String,
        /// Every error it gave.
        errors: Vec<Rejection>,
    },
    /// A plugin failed: trap, timeout, memory, or output that is not a valid batch (a 5xx).
    #[error("plugin `{plugin}` failed: {reason}")]
    Failed {
        /// The plugin.
        plugin: String,
        /// What went wrong.
        reason: String,
    },
}

fn describe(e: &Rejection) -> String {
    match e.index {
        Some(i) => format!("statement {i}: {}", e.message),
        None => format!("the batch: {}", e.message),
    }
}

fn more(count: usize) -> String {
    match count {
        0 | 1 => String::new(),
        2 => " (and 1 more error)".into(),
        n => format!(" (and {} more errors)", n - 1),
    }
}

/// A refusal (a v0.1 validator's, a v0.2 transformer's): a plugin failure when it gave no
/// error (what an uncaught exception in a raw JavaScript export becomes).
fn verdict_given(
    plugin: &PluginInstance,
    errors: Vec<PluginError>,
) -> Result<Vec<PluginError>, PipelineError> {
    if errors.is_empty() {
        return Err(host_found(
            plugin,
            "refused the batch without saying why (an empty error list: in JavaScript, an uncaught exception)",
        ));
    }
    Ok(errors)
}

/// A validator's (or transformer's) errors as a verdict on the batch of `len` statements; a
/// plugin failure when one names a statement the batch does not have.
fn verdict(
    plugin: &PluginInstance,
    errors: Vec<PluginError>,
    len: usize,
) -> Result<Vec<Rejection>, PipelineError> {
    errors
        .into_iter()
        .map(|e| rejection(plugin, e, len))
        .collect()
}

fn rejection(
    plugin: &PluginInstance,
    e: PluginError,
    len: usize,
) -> Result<Rejection, PipelineError> {
    let index = e.statement_index.map(|i| i as usize);
    if let Some(i) = index.filter(|&i| i >= len) {
        return Err(host_found(
            plugin,
            format!("named statement {i} of a batch of {len}: {}", e.message),
        ));
    }
    Ok(Rejection {
        index,
        message: e.message,
    })
}

impl From<crate::bindings::v0_2::Rejection> for PluginError {
    fn from(r: crate::bindings::v0_2::Rejection) -> Self {
        PluginError {
            message: r.message,
            statement_index: Some(r.statement_index),
        }
    }
}

pub(crate) fn failed(plugin: &PluginInstance, reason: impl Into<String>) -> PipelineError {
    PipelineError::Failed {
        plugin: plugin.name.to_string(),
        reason: reason.into(),
    }
}

/// A failure the host found in what the plugin answered: counted and kept as its last failure.
pub(crate) fn host_found(plugin: &PluginInstance, reason: impl Into<String>) -> PipelineError {
    let reason = reason.into();
    plugin.count_failure(&reason);
    failed(plugin, reason)
}

pub(crate) fn call_failed(plugin: &PluginInstance, e: CallFailure) -> PipelineError {
    failed(plugin, e.to_string())
}

impl Pipeline {
    /// True when no plugin is loaded: the batch passes untouched, without serializing it.
    pub fn is_empty(&self) -> bool {
        self.validators.is_empty() && self.transformers.is_empty()
    }

    /// True when no admission plugin is loaded: an invalid statement is refused at once.
    pub fn admits_nothing(&self) -> bool {
        self.admission.is_empty()
    }

    /// Asks the admission plugins about statements the host's validation refused (blocking:
    /// call it off the async workers); see [`crate::admission::admit`].
    pub fn admit(
        &self,
        credential: &str,
        refused: &[Refused],
        version: XapiVersion,
    ) -> Result<Vec<Decision>, PipelineError> {
        crate::admission::admit(&self.admission, credential, refused, version)
    }

    /// Runs the batch through every validator and transformer (blocking: call it off the async
    /// workers). Each statement must already carry its `id`; a transformer may not change it,
    /// drop or add statements, or return anything that is not a valid xAPI statement.
    pub fn run(
        &self,
        statements: Vec<Value>,
        version: XapiVersion,
    ) -> Result<Vec<Value>, PipelineError> {
        self.run_waiving(statements, version, &[])
    }

    /// [`Pipeline::run`] for a batch some statements of which were admitted breaking rules:
    /// `waived[i]` are the rules a transformer's output of statement `i` may break too (none
    /// for statements past the end of `waived`).
    pub fn run_waiving(
        &self,
        statements: Vec<Value>,
        version: XapiVersion,
        waived: &[Vec<Rule>],
    ) -> Result<Vec<Value>, PipelineError> {
        if self.is_empty() {
            return Ok(statements);
        }
        let mut current = statements;
        // The batch as JSON text, for v0.1 plugins: made when the first needs it, dropped
        // when a v0.2 transformer changes a statement.
        let mut texts: Option<Vec<String>> = None;
        let as_texts = |current: &[Value]| current.iter().map(crate::batch::json_text).collect();
        for plugin in &self.validators {
            let errors = if plugin.reads_fields() {
                let rejections = plugin
                    .validate_fields(&mut current)
                    .map_err(|e| call_failed(plugin, e))?;
                rejections.into_iter().map(Into::into).collect()
            } else {
                let texts = texts.get_or_insert_with(|| as_texts(&current));
                match plugin.validate(texts).map_err(|e| call_failed(plugin, e))? {
                    Ok(()) => Vec::new(),
                    // An empty list from a v0.1 validator is not an acceptance.
                    Err(errors) => verdict_given(plugin, errors)?,
                }
            };
            if !errors.is_empty() {
                return Err(PipelineError::Rejected {
                    plugin: plugin.name.to_string(),
                    errors: verdict(plugin, errors, current.len())?,
                });
            }
        }
        for plugin in &self.transformers {
            if plugin.reads_fields() {
                let changes = plugin
                    .transform_fields(&mut current)
                    .map_err(|e| call_failed(plugin, e))?
                    .map_err(|rejections| {
                        let errors = rejections.into_iter().map(Into::into).collect();
                        // An empty refusal is no verdict: the plugin's failure.
                        match verdict_given(plugin, errors)
                            .and_then(|errors| verdict(plugin, errors, current.len()))
                        {
                            Ok(errors) => PipelineError::Rejected {
                                plugin: plugin.name.to_string(),
                                errors,
                            },
                            Err(failure) => failure,
                        }
                    })?;
                if crate::batch::apply(&mut current, changes, version, waived)
                    .map_err(|reason| host_found(plugin, reason))?
                {
                    texts = None;
                }
                continue;
            }
            let input = texts.get_or_insert_with(|| as_texts(&current));
            let output = plugin
                .transform(input)
                .map_err(|e| call_failed(plugin, e))?
                .map_err(|e| match e.statement_index {
                    // Refusing a named statement is a verdict on the data, like a validator's.
                    Some(_) => match rejection(plugin, e, current.len()) {
                        Ok(r) => PipelineError::Rejected {
                            plugin: plugin.name.to_string(),
                            errors: vec![r],
                        },
                        Err(failure) => failure,
                    },
                    None => failed(plugin, format!("refused the batch: {}", e.message)),
                })?;
            current = check_output(&current, &output, version, waived)
                .map_err(|reason| host_found(plugin, reason))?;
            texts = Some(output);
        }
        Ok(current)
    }
}

/// A transformer's output: one valid statement per input, ids unchanged.
fn check_output(
    input: &[Value],
    output: &[String],
    version: XapiVersion,
    waived: &[Vec<Rule>],
) -> Result<Vec<Value>, String> {
    if output.len() != input.len() {
        return Err(format!(
            "returned {} statements for {} (one statement out per statement in)",
            output.len(),
            input.len()
        ));
    }
    input
        .iter()
        .zip(output)
        .enumerate()
        .map(|(i, (before, text))| {
            let after: Value = serde_json::from_str(text)
                .map_err(|e| format!("statement {i} of its output is not JSON: {e}"))?;
            let rules = waived.get(i).map(Vec::as_slice).unwrap_or_default();
            validate_waiving(&after, version, rules).map_err(|e| {
                format!("statement {i} of its output is not a valid xAPI statement: {e}")
            })?;
            if after.get("id") != before.get("id") {
                return Err(format!(
                    "statement {i} of its output changed the statement id"
                ));
            }
            Ok(after)
        })
        .collect()
}
