//! `xlrs validate`: statements as JSON lines in, one JSON line out per invalid statement with
//! its reasons — the xAPI rules the server applies and, when asked, the validator and
//! transformer plugins of the plugins directory.

use std::io::{BufRead, Write};

use serde_json::{json, Value};

use super::lines::numbered;
use xlrs_plugin_host::{Pipeline, PipelineError};
use xlrs_xapi::validate::validate_statement;
use xlrs_xapi::version::XapiVersion;

/// What a run found.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Statements read (non-empty lines).
    pub checked: usize,
    /// Statements reported invalid.
    pub invalid: usize,
}

/// Why one statement is invalid: the xAPI rule it breaks, or a plugin's verdict.
fn reasons(statement: &Value, version: XapiVersion, pipeline: Option<&Pipeline>) -> Vec<String> {
    if let Err(e) = validate_statement(statement, version) {
        return vec![e.to_string()];
    }
    let Some(pipeline) = pipeline else {
        return Vec::new();
    };
    match pipeline.run(vec![statement.clone()], version) {
        Ok(_) => Vec::new(),
        Err(PipelineError::Rejected { plugin, errors }) => errors
            .into_iter()
            .map(|e| format!("plugin `{plugin}`: {}", e.message))
            .collect(),
        Err(other) => vec![other.to_string()],
    }
}

/// Checks every line of `input`, writing a report line for each invalid statement to `out`:
/// `{"line": N, "id": ID?, "errors": [..]}`.
pub fn run(
    input: impl BufRead,
    mut out: impl Write,
    version: XapiVersion,
    pipeline: Option<&Pipeline>,
) -> std::io::Result<Summary> {
    let mut summary = Summary::default();
    for line in numbered(input) {
        let (number, line) = line?;
        summary.checked += 1;
        let (id, errors) = match serde_json::from_str::<Value>(&line) {
            Ok(statement) => (
                statement.get("id").cloned(),
                reasons(&statement, version, pipeline),
            ),
            Err(e) => (None, vec![format!("not JSON: {e}")]),
        };
        if errors.is_empty() {
            continue;
        }
        summary.invalid += 1;
        let mut report = json!({ "line": number, "errors": errors });
        if let Some(id) = id {
            report["id"] = id;
        }
        writeln!(out, "{report}")?;
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(input: &str) -> (Summary, Vec<Value>) {
        let mut out = Vec::new();
        let summary = run(input.as_bytes(), &mut out, XapiVersion::V2_0_0, None).unwrap();
        let lines = String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        (summary, lines)
    }

    #[test]
    fn each_invalid_statement_is_reported_with_its_line_id_and_reason() {
        let valid = r#"{"actor":{"mbox":"mailto:a@example.org"},"verb":{"id":"http://example.org/v"},"object":{"id":"http://example.org/a"}}"#;
        let no_verb = r#"{"id":"00000000-0000-4000-8000-000000000001","actor":{"mbox":"mailto:a@example.org"},"object":{"id":"http://example.org/a"}}"#;
        let input = format!("{valid}\n\n{no_verb}\nnot json\n");
        let (summary, lines) = report(&input);
        assert_eq!(
            summary,
            Summary {
                checked: 3,
                invalid: 2
            }
        );
        assert_eq!(lines[0]["line"], 3);
        assert_eq!(lines[0]["id"], "00000000-0000-4000-8000-000000000001");
        assert!(
            lines[0]["errors"][0].as_str().unwrap().contains("verb"),
            "{}",
            lines[0]
        );
        assert_eq!(lines[1]["line"], 4);
        assert!(lines[1]["errors"][0]
            .as_str()
            .unwrap()
            .starts_with("not JSON"));
    }
}
