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
use crate::placement::Placement;

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
        self.resume(
            Handover {
                step: 0,
                current: statements,
            },
            version,
            waived,
        )
    }

    /// True when every validator and transformer may run on the request's thread (see
    /// [`Placement`]): [`Pipeline::run_inline`] then spares the batch the hop to a plugin
    /// thread.
    pub fn runs_inline(&self) -> bool {
        !self.is_empty() && self.steps().all(|(plugin, _)| plugin.runs_inline())
    }

    /// [`Pipeline::run_waiving`] on the caller's thread, each call within the inline budget
    /// (call it only when [`Pipeline::runs_inline`]): done, or handed over at the first call
    /// that ran past the budget, for [`Pipeline::resume`] on a plugin thread.
    pub fn run_inline(
        &self,
        statements: Vec<Value>,
        version: XapiVersion,
        waived: &[Vec<Rule>],
    ) -> Progress {
        self.run_from(0, statements, version, waived, Placement::Inline)
    }

    /// Runs the rest of a batch's pipeline from where it was handed over (blocking: call it
    /// off the async workers).
    pub fn resume(
        &self,
        handover: Handover,
        version: XapiVersion,
        waived: &[Vec<Rule>],
    ) -> Result<Vec<Value>, PipelineError> {
        let Handover { step, current } = handover;
        match self.run_from(step, current, version, waived, Placement::Threads) {
            Progress::Done(result) => result,
            // Only an inline call hands over.
            Progress::Handover(h) => Err(PipelineError::Failed {
                plugin: self
                    .steps()
                    .nth(h.step)
                    .map_or_else(String::new, |(p, _)| p.name.to_string()),
                reason: "ran past the inline budget on a plugin thread".into(),
            }),
        }
    }

    /// The validators, then the transformers (each with whether it is a validator).
    fn steps(&self) -> impl Iterator<Item = (&Arc<PluginInstance>, bool)> {
        let validators = self.validators.iter().map(|p| (p, true));
        validators.chain(self.transformers.iter().map(|p| (p, false)))
    }

    /// Runs the plugins from `step` on over the batch, each call placed so.
    fn run_from(
        &self,
        step: usize,
        mut current: Vec<Value>,
        version: XapiVersion,
        waived: &[Vec<Rule>],
        placement: Placement,
    ) -> Progress {
        // The batch as JSON text, for v0.1 plugins: made when the first needs it, dropped
        // when a v0.2 transformer changes a statement.
        let mut texts: Option<Vec<String>> = None;
        let batch = Batch {
            version,
            waived,
            placement,
        };
        for (at, (plugin, validates)) in self.steps().enumerate().skip(step) {
            let ran = if validates {
                batch.validate(plugin, &mut current, &mut texts)
            } else {
                batch.transform(plugin, &mut current, &mut texts)
            };
            match ran {
                Ok(()) => {}
                Err(Stop::Error(e)) => return Progress::Done(Err(e)),
                Err(Stop::OverBudget) => return Progress::Handover(Handover { step: at, current }),
            }
        }
        Progress::Done(Ok(current))
    }
}

/// Where a run of the pipeline on the request's thread stopped.
pub enum Progress {
    /// It ran to the end: the batch, or why it failed.
    Done(Result<Vec<Value>, PipelineError>),
    /// A call ran past the inline budget: the rest runs on a plugin thread.
    Handover(Handover),
}

/// The rest of a batch's pipeline: from which plugin on, over the batch as the plugins before
/// it left it.
pub struct Handover {
    step: usize,
    current: Vec<Value>,
}

/// Why a step stopped the pipeline.
enum Stop {
    /// A rejection or a failure: the batch's outcome.
    Error(PipelineError),
    /// The call ran past the inline budget.
    OverBudget,
}

impl From<PipelineError> for Stop {
    fn from(e: PipelineError) -> Self {
        Stop::Error(e)
    }
}

/// A plugin's call failure as a stop: past the inline budget, or the plugin's failure.
fn stop(plugin: &PluginInstance, e: CallFailure) -> Stop {
    match e {
        CallFailure::OverBudget => Stop::OverBudget,
        e => Stop::Error(call_failed(plugin, e)),
    }
}

/// What every step of one batch's run shares.
struct Batch<'a> {
    version: XapiVersion,
    waived: &'a [Vec<Rule>],
    placement: Placement,
}

impl Batch<'_> {
    /// One validator over the batch: its rejections stop the pipeline.
    fn validate(
        &self,
        plugin: &PluginInstance,
        current: &mut Vec<Value>,
        texts: &mut Option<Vec<String>>,
    ) -> Result<(), Stop> {
        let errors = if plugin.reads_fields() {
            let rejections = plugin
                .validate_fields(current, self.placement)
                .map_err(|e| stop(plugin, e))?;
            rejections.into_iter().map(Into::into).collect()
        } else {
            let texts = texts.get_or_insert_with(|| as_texts(current));
            match plugin.validate(texts).map_err(|e| stop(plugin, e))? {
                Ok(()) => Vec::new(),
                // An empty list from a v0.1 validator is not an acceptance.
                Err(errors) => verdict_given(plugin, errors)?,
            }
        };
        if errors.is_empty() {
            return Ok(());
        }
        Err(Stop::Error(PipelineError::Rejected {
            plugin: plugin.name.to_string(),
            errors: verdict(plugin, errors, current.len())?,
        }))
    }

    /// One transformer over the batch: its output replaces it.
    fn transform(
        &self,
        plugin: &PluginInstance,
        current: &mut Vec<Value>,
        texts: &mut Option<Vec<String>>,
    ) -> Result<(), Stop> {
        let (version, waived) = (self.version, self.waived);
        if plugin.reads_fields() {
            let changes = plugin
                .transform_fields(current, self.placement)
                .map_err(|e| stop(plugin, e))?
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
            if crate::batch::apply(current, changes, version, waived)
                .map_err(|reason| host_found(plugin, reason))?
            {
                *texts = None;
            }
            return Ok(());
        }
        let input = texts.get_or_insert_with(|| as_texts(current));
        let output = plugin
            .transform(input)
            .map_err(|e| stop(plugin, e))?
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
        *current = check_output(current, &output, version, waived)
            .map_err(|reason| host_found(plugin, reason))?;
        *texts = Some(output);
        Ok(())
    }
}

/// The batch as JSON text, for v0.1 plugins.
fn as_texts(current: &[Value]) -> Vec<String> {
    current.iter().map(crate::batch::json_text).collect()
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
