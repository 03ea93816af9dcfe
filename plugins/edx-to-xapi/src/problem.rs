//! Server `problem_check` → answered a `cmi.interaction`.
//!
//! Ralph's released converters have no problem event; this follows its unmerged
//! draft `ProblemCheckToAssessmentAnsweredQuestion` (branch
//! `add-assessment-xapi-profile`), with the draft's slips fixed: the object id is
//! `{platform_url}/xblock/{problem_id}`, `max_grade` is read under that name, and
//! the interaction type is taken from the `submission` map (keyed by input id).

use serde_json::{json, Map, Value};

use crate::common::{
    base_statement, event_payload, float, get, platform_base, required_number, required_str,
};
use crate::{ConvertError, Options};

/// Verb of `problem_check`.
const VERB_ANSWERED: &str = "http://adlnet.gov/expapi/verbs/answered";
/// Activity type of a question.
const ACTIVITY_TYPE_INTERACTION: &str = "http://adlnet.gov/expapi/activities/cmi.interaction";

/// Converts a server `problem_check` event.
pub(crate) fn problem_check(
    event: &Value,
    id_source: &[u8],
    options: &Options,
) -> Result<Value, ConvertError> {
    let mut statement = base_statement(event, id_source, options)?;
    let payload = event_payload(event)?;
    let problem_id = required_str(&payload, &["problem_id"], "event.problem_id")?;
    let grade = required_number(&payload, &["grade"], "event.grade")?;
    let max_grade = required_number(&payload, &["max_grade"], "event.max_grade")?;
    let success = match required_str(&payload, &["success"], "event.success")? {
        "correct" => true,
        "incorrect" => false,
        _ => {
            return Err(ConvertError::invalid(
                "event.success",
                "expected \"correct\" or \"incorrect\"",
            ))
        }
    };

    statement.insert("verb".into(), json!({ "id": VERB_ANSWERED }));
    statement.insert(
        "object".into(),
        json!({
            "id": format!("{}/xblock/{problem_id}", platform_base(options)),
            "definition": {
                "type": ACTIVITY_TYPE_INTERACTION,
                "interactionType": interaction_type(&payload),
            },
        }),
    );
    let mut score = Map::new();
    score.insert("raw".into(), number_as_given(&payload, "grade", grade));
    score.insert("min".into(), json!(0));
    score.insert(
        "max".into(),
        number_as_given(&payload, "max_grade", max_grade),
    );
    if max_grade > 0.0 {
        score.insert("scaled".into(), float(grade / max_grade));
    }
    statement.insert(
        "result".into(),
        json!({ "success": success, "score": score }),
    );
    Ok(Value::Object(statement))
}

/// The original JSON number at `key` (so integer grades stay integers), else `parsed`.
fn number_as_given(payload: &Value, key: &str, parsed: f64) -> Value {
    match payload.get(key) {
        Some(Value::Number(n)) => Value::Number(n.clone()),
        _ => float(parsed),
    }
}

/// The xAPI `interactionType` of the problem: the mapping of its inputs' edX `response_type`, `other` if they differ or are unknown.
fn interaction_type(payload: &Value) -> &'static str {
    let mut types = get(payload, &["submission"])
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|inputs| inputs.values())
        .map(|input| {
            input
                .get("response_type")
                .and_then(Value::as_str)
                .map(map_response_type)
        });
    match types.next() {
        Some(Some(first)) if types.all(|t| t == Some(first)) => first,
        _ => "other",
    }
}

/// Maps an edX capa `response_type` to an xAPI interaction type, as in Ralph's draft.
fn map_response_type(response_type: &str) -> &'static str {
    match response_type {
        "choiceresponse" | "multiplechoiceresponse" | "choicetextresponse" | "optionresponse" => {
            "choice"
        }
        "truefalseresponse" => "true-false",
        "numericalresponse" | "formularesponse" => "numerical",
        "stringresponse" => "long-fill-in",
        "imageresponse" => "matching",
        _ => "other",
    }
}
