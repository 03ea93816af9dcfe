//! `problem_check`: a learner submits a problem.
//!
//! - From the server, the problem is an interaction with its score; one question makes one
//!   statement (the question's text, the answer and its correctness), several questions make
//!   a group statement for the problem (its name and score) followed by one statement per
//!   question, which refers to it.
//! - From the browser, only the block is known (from the referring page or the submitted
//!   form), and there is no result.

use serde_json::{Map, Value};

use super::problem::object_id;
use super::video::usage_key;
use crate::event::{truthy, Event};
use crate::parts::{lms_iri, Activity, Child, Outcome, Parts};
use crate::pyfmt::{json_dumps, py_str};
use crate::vocab::{EXT_ATTEMPT_ID, TYPE_INTERACTION};
use crate::{ConvertError, Options};

/// Language of problem names and questions.
const EN_US: &str = "en-US";
/// The interaction type of anything unknown (and of a whole multi-question problem).
const OTHER: &str = "other";

/// The xAPI interaction type of an Open edX response type.
fn interaction_type(response_type: Option<&Value>) -> &'static str {
    match response_type.and_then(Value::as_str).unwrap_or_default() {
        "choiceresponse" | "multiplechoiceresponse" | "choicetextresponse" | "optionresponse" => {
            "choice"
        }
        "numericalresponse" => "numeric",
        "stringresponse" | "formularesponse" | "annotationresponse" | "symbolicresponse" => {
            "fill-in"
        }
        "imageresponse" => "matching",
        "truefalseresponse" => "true-false",
        _ => OTHER,
    }
}

/// A submitted answer as result text: lists as JSON, other values as Python prints them.
fn response_text(answer: Option<&Value>) -> Option<String> {
    match answer? {
        Value::Null => None,
        list @ Value::Array(_) => Some(json_dumps(list, false)),
        other => Some(py_str(other)),
    }
}

/// The `response_type` of a submission, if set.
fn response_type(submission: &Value) -> Option<&Value> {
    submission.get("response_type").filter(|t| truthy(Some(t)))
}

/// The question text of a submission as a description.
fn question(submission: &Value) -> Option<(&'static str, String)> {
    let text = submission.get("question")?.as_str()?;
    Some((EN_US, text.to_string()))
}

/// The problem's display name.
fn display_name(event: &Event) -> Option<String> {
    event
        .module("display_name")
        .or_else(|| event.data(&["display_name"]))
        .map(py_str)
}

/// The block id of a browser submission: the referring page's `activate_block_id`, else the
/// problem named by the first input of the submitted form.
fn browser_block(event: &Event, referer: &str) -> Option<String> {
    if let Some(block) = query_value(referer, "activate_block_id") {
        return Some(block);
    }
    let form = event.payload().as_str()?;
    let problem = form.split('_').nth(1)?;
    usage_key(event.course_id()?, "problem", problem)
}

/// The first non-empty value of `key` in the query string of `url`, decoded.
fn query_value(url: &str, key: &str) -> Option<String> {
    let (_, query) = url.split_once('?')?;
    let query = query.split('#').next().unwrap_or_default();
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (percent_decode(k) == key && !v.is_empty()).then(|| percent_decode(v))
    })
}

/// Form decoding: `+` is a space, `%XX` a byte; malformed escapes are kept.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .filter(|h| h.iter().all(u8::is_ascii_hexdigit))
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                if let Some(byte) = hex {
                    out.push(byte);
                    i += 3;
                    continue;
                }
                out.push(b'%');
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The statement(s) of a `problem_check` event.
pub(crate) fn check(event: &Event, options: &Options) -> Result<Parts, ConvertError> {
    let referer = event
        .referer()
        .ok_or_else(|| ConvertError::missing("referer"))?;
    let problem = object_id(event)?;
    let submissions: Map<String, Value> = event
        .data(&["submission"])
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let browser = event.is_browser();
    let id = if browser {
        browser_block(event, referer)
            .map(|block| format!("{}/xblock/{block}", options.platform_url))
    } else {
        lms_iri(options, "xblock", problem.as_ref())
    };
    let mut object = Activity::new(id, TYPE_INTERACTION);
    let grouped = submissions.len() > 1;
    let answered = submissions.values().find(|s| response_type(s).is_some());
    if grouped {
        object.group = true;
        object.interaction_type = Some(OTHER);
        object.name = display_name(event).map(|n| (EN_US, n));
    } else {
        if truthy(event.data(&["attempts"])) {
            object.extensions = Some(vec![(EXT_ATTEMPT_ID, event.data(&["attempts"]).cloned())]);
        }
        match answered {
            Some(submission) => {
                object.interaction_type = Some(interaction_type(response_type(submission)));
                object.description = question(submission);
            }
            None => {
                object.interaction_type = Some(interaction_type(event.data(&["response_type"])));
                object.name = display_name(event).map(|n| (EN_US, n));
            }
        }
    }
    let mut parts = Parts::of(object);
    if browser {
        return Ok(parts);
    }

    let max = event.data(&["max_grade"]).and_then(Value::as_f64);
    let grade = event.data(&["grade"]).and_then(Value::as_f64);
    let scaled = match (max, grade) {
        (Some(max), Some(grade)) if max > 0.0 => Some(grade / max),
        (Some(_), Some(_)) => Some(0.0),
        _ => None,
    };
    let overall_success = event.data(&["success"]).and_then(Value::as_str) == Some("correct");
    let mut result = Outcome {
        score: Some([scaled, grade, Some(0.0), max]),
        success: Some(overall_success),
        ..Outcome::default()
    };
    if !grouped {
        match answered {
            Some(submission) => {
                result.response = response_text(submission.get("answer"));
                result.success = correctness(submission);
            }
            None => result.response = response_text(event.data(&["answers"])),
        }
    }
    parts.result = Some(result);

    if grouped {
        let problem_key = problem.as_ref().map(py_str).unwrap_or_default();
        for (key, submission) in &submissions {
            parts.children.push(question_statement(
                event,
                options,
                &problem_key,
                key,
                submission,
            ));
        }
    }
    Ok(parts)
}

/// Whether a submission is correct, as recorded (`None` when it says nothing).
fn correctness(submission: &Value) -> Option<bool> {
    submission.get("correct").and_then(|c| match c {
        Value::Null => None,
        other => Some(truthy(Some(other))),
    })
}

/// The statement about one question of a multi-question problem: the question's block is
/// the problem's usage key with the question key as its last `@` part.
fn question_statement(
    event: &Event,
    options: &Options,
    problem_key: &str,
    key: &str,
    submission: &Value,
) -> Child {
    let block = match problem_key.rsplit_once('@') {
        Some((head, _)) => format!("{head}@{key}"),
        None => key.to_string(),
    };
    let mut object = Activity::new(
        Some(format!("{}/xblock/{block}", options.platform_url)),
        TYPE_INTERACTION,
    );
    if truthy(Some(submission)) {
        object.interaction_type = Some(interaction_type(submission.get("response_type")));
        object.description = question(submission);
    } else {
        object.interaction_type = Some(OTHER);
        object.name = display_name(event).map(|n| (EN_US, n));
    }
    let result = Outcome {
        success: correctness(submission),
        response: response_text(submission.get("answer")),
        ..Outcome::default()
    };
    Child {
        key: key.to_string(),
        object,
        result,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_activate_block_id_of_a_page_is_decoded() {
        let url =
            "http://lms/c/?activate_block_id=block-v1%3AedX%2BX%2BY%2Btype%40seq%2Bblock%40b1&x=1";
        assert_eq!(
            query_value(url, "activate_block_id").as_deref(),
            Some("block-v1:edX+X+Y+type@seq+block@b1")
        );
        assert_eq!(
            query_value("http://lms/c/?activate_block_id=", "activate_block_id"),
            None
        );
        assert_eq!(percent_decode("a+b%2"), "a b%2");
    }

    #[test]
    fn response_types_map_to_interaction_types() {
        assert_eq!(
            interaction_type(Some(&Value::from("optionresponse"))),
            "choice"
        );
        assert_eq!(
            interaction_type(Some(&Value::from("numericalresponse"))),
            "numeric"
        );
        assert_eq!(
            interaction_type(Some(&Value::from("customresponse"))),
            "other"
        );
        assert_eq!(interaction_type(None), "other");
    }
}
