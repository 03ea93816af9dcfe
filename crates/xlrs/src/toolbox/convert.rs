//! `xlrs convert --from edx`: Open edX tracking-log lines in, xAPI statements out (JSON lines),
//! converted by the `edx-to-xapi` plugin (the mapping of Open edX's event-routing-backends,
//! ERB) run outside a server. An event gives one statement or several (the plugin answers a
//! JSON array for several). Events of a type it has no converter for are skipped and counted;
//! a malformed event is reported with its line and the rest go on. Statements that break xAPI
//! as ERB's own do are written as ERB makes them (counted by rule: an LRS stores them only with
//! an admission plugin such as openedx-compat), or left out with `valid_only`.

use std::collections::BTreeMap;
use std::io::{BufRead, Write};

use serde_json::Value;

use super::lines::batches;
use super::progress::Progress;
use xlrs_plugin_host::PluginInstance;
use xlrs_xapi::validate::validate_statement;
use xlrs_xapi::version::XapiVersion;

/// Lines per plugin call.
const BATCH: usize = 500;

/// What a conversion did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Statements written.
    pub converted: u64,
    /// Events of types without a converter.
    pub skipped: u64,
    /// Events that could not be converted (reported on stderr).
    pub failed: u64,
    /// Statements that break xAPI, by the first rule each breaks (written, unless
    /// `valid_only`, then left out).
    pub breaking: BTreeMap<&'static str, u64>,
}

impl Summary {
    /// Statements that break xAPI.
    pub fn breaking_total(&self) -> u64 {
        self.breaking.values().sum()
    }
}

/// Whether the plugin gave the event back: still an edX event, not a statement.
fn unconverted(value: &Value) -> bool {
    value.get("event_type").is_some() && value.get("actor").is_none()
}

/// Converts a batch of (line number, line) with the plugin, writing statements to `out` and
/// reporting failures to `errors`; a line the plugin refuses is reported and left out, and the
/// rest of the batch is converted again.
fn convert_batch(
    plugin: &PluginInstance,
    valid_only: bool,
    mut batch: Vec<(usize, String)>,
    out: &mut dyn Write,
    errors: &mut dyn Write,
    summary: &mut Summary,
) -> anyhow::Result<()> {
    while !batch.is_empty() {
        let texts: Vec<String> = batch.iter().map(|(_, l)| format!("{l}\n")).collect();
        let converted = match plugin.transform(&texts)? {
            Ok(converted) => converted,
            Err(refusal) => {
                let Some(index) = refusal.statement_index.map(|i| i as usize) else {
                    anyhow::bail!("the converter failed: {}", refusal.message);
                };
                if index >= batch.len() {
                    anyhow::bail!(
                        "the converter named no line of the batch: {}",
                        refusal.message
                    );
                }
                let (line, _) = batch.remove(index);
                writeln!(errors, "line {line}: {}", refusal.message)?;
                summary.failed += 1;
                continue;
            }
        };
        if converted.len() != batch.len() {
            anyhow::bail!(
                "the converter returned {} texts for {} lines",
                converted.len(),
                batch.len()
            );
        }
        for ((line, _), text) in batch.iter().zip(&converted) {
            let value: Value = match serde_json::from_str(text) {
                Ok(v) => v,
                Err(e) => {
                    writeln!(
                        errors,
                        "line {line}: the converter's output is not JSON: {e}"
                    )?;
                    summary.failed += 1;
                    continue;
                }
            };
            if unconverted(&value) {
                summary.skipped += 1;
                continue;
            }
            let statements = match value {
                Value::Array(several) => several,
                one => vec![one],
            };
            for statement in statements {
                if let Err(e) = validate_statement(&statement, XapiVersion::V1_0_3) {
                    *summary.breaking.entry(e.rule.as_str()).or_default() += 1;
                    if valid_only {
                        continue;
                    }
                }
                writeln!(out, "{statement}")?;
                summary.converted += 1;
            }
        }
        batch.clear();
    }
    Ok(())
}

/// Converts every line of `input`; with `valid_only`, statements that break xAPI are left out.
pub fn run(
    plugin: &PluginInstance,
    valid_only: bool,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
    errors: &mut dyn Write,
) -> anyhow::Result<Summary> {
    let progress = Progress::new("converted");
    let mut summary = Summary::default();
    for batch in batches(input, BATCH) {
        let batch = batch?;
        let n = batch.len() as u64;
        convert_batch(plugin, valid_only, batch, out, errors, &mut summary)?;
        progress.add(n);
    }
    progress.finish();
    Ok(summary)
}
