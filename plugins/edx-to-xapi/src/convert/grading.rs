//! Grades and completion: subsection and course grades, a problem's weighted score, and
//! block completion progress.

use serde_json::Value;

use crate::event::Event;
use crate::parts::{course_activity, lms_iri, Activity, Outcome, Parts};
use crate::vocab::{EXT_GRADE_CLASSIFICATION, EXT_PROGRESS, TYPE_QUESTION, TYPE_RESOURCE};
use crate::{ConvertError, Options};

/// A JSON number as a float.
pub(crate) fn number(value: Option<&Value>) -> Option<f64> {
    value.and_then(Value::as_f64)
}

/// A weighted score: `earned` of `possible` (absent counts as 0), success when all earned.
fn weighted(event: &Event, earned: &str, possible: &str) -> Outcome {
    let possible = number(event.data(&[possible])).unwrap_or(0.0);
    let earned = number(event.data(&[earned])).unwrap_or(0.0);
    let scaled = if possible > 0.0 {
        earned / possible
    } else {
        0.0
    };
    Outcome {
        score: Some([Some(scaled), Some(earned), Some(0.0), Some(possible)]),
        success: Some(earned >= possible),
        ..Outcome::default()
    }
}

/// `edx.grades.subsection.grade_calculated`: the subsection block and its weighted score.
pub(crate) fn subsection(event: &Event, options: &Options) -> Result<Parts, ConvertError> {
    let block = event
        .data(&["block_id"])
        .ok_or_else(|| ConvertError::missing("event.block_id"))?;
    let object = Activity::new(lms_iri(options, "xblock", Some(block)), TYPE_RESOURCE);
    let result = weighted(event, "weighted_total_earned", "weighted_total_possible");
    Ok(Parts::of(object).with_result(result))
}

/// `edx.grades.problem.submitted`: the problem as a question and its weighted score.
pub(crate) fn problem(event: &Event, options: &Options) -> Result<Parts, ConvertError> {
    let id = super::problem::object_id(event)?;
    let object = Activity::new(lms_iri(options, "xblock", id.as_ref()), TYPE_QUESTION);
    let result = weighted(event, "weighted_earned", "weighted_possible");
    Ok(Parts::of(object).with_result(result))
}

/// `edx.grades.course.grade_calculated`: the course, its grade out of 1 and its letter grade.
pub(crate) fn course(event: &Event, options: &Options) -> Result<Parts, ConvertError> {
    let course_id = event
        .course_id()
        .ok_or_else(|| ConvertError::missing("context.course_id"))?;
    let grade = number(event.data(&["percent_grade"])).unwrap_or(0.0);
    let letter = event.data(&["letter_grade"]).cloned();
    let letter = letter.unwrap_or_else(|| Value::String("Fail".into()));
    let result = Outcome {
        score: Some([Some(grade), Some(grade), Some(0.0), Some(1.0)]),
        extensions: Some(vec![(EXT_GRADE_CLASSIFICATION, Some(letter))]),
        ..Outcome::default()
    };
    Ok(Parts::of(course_activity(options, course_id, "en")).with_result(result))
}

/// `edx.completion.block_completion.changed`: the block, whether it is complete, and the
/// progress in percent.
pub(crate) fn completion(event: &Event, options: &Options) -> Result<Parts, ConvertError> {
    let object = Activity::new(
        lms_iri(options, "xblock", event.data(&["block_id"])),
        TYPE_RESOURCE,
    );
    let completion = match event.payload().get("completion") {
        Some(Value::Number(n)) => n.clone(),
        _ => return Err(ConvertError::missing("event.completion")),
    };
    let progress = match completion.as_i64() {
        Some(whole) => Value::from(whole.saturating_mul(100)),
        None => Value::from(completion.as_f64().unwrap_or(0.0) * 100.0),
    };
    let result = Outcome {
        completion: Some(completion.as_f64() == Some(1.0)),
        extensions: Some(vec![(EXT_PROGRESS, Some(progress))]),
        ..Outcome::default()
    };
    Ok(Parts::of(object).with_result(result))
}
