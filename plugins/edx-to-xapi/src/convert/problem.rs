//! Problem events other than submissions: answer shown, hint shown, problem completed.

use serde_json::Value;

use crate::event::Event;
use crate::parts::{lms_iri, Activity, Parts};
use crate::pyfmt::py_str;
use crate::vocab::{TYPE_HINT, TYPE_INTERACTION, TYPE_SOLUTION};
use crate::{ConvertError, Options};

/// The problem's usage key: the payload's `problem_id` or `module_id` when the payload is an
/// object (then one of them is required), else the module of the context.
pub(crate) fn object_id(event: &Event) -> Result<Option<Value>, ConvertError> {
    if event.data(&[]).is_some_and(Value::is_object) {
        let id = event
            .data(&["problem_id"])
            .or_else(|| event.data(&["module_id"]));
        return id
            .cloned()
            .map(Some)
            .ok_or_else(|| ConvertError::missing("event.problem_id or event.module_id"));
    }
    Ok(event.module("usage_key").cloned())
}

/// `showanswer`: the problem's answer, `{problem IRI}/answer`.
pub(crate) fn answer_shown(event: &Event, options: &Options) -> Result<Parts, ConvertError> {
    object_id(event)?;
    let problem = event
        .data(&["problem_id"])
        .ok_or_else(|| ConvertError::missing("event.problem_id"))?;
    let id = lms_iri(options, "xblock", Some(problem)).map(|iri| format!("{iri}/answer"));
    Ok(Parts::of(Activity::new(id, TYPE_SOLUTION)))
}

/// `edx.problem.hint.demandhint_displayed`: the hint, `{problem IRI}/hint/{index}`.
pub(crate) fn hint_shown(event: &Event, options: &Options) -> Result<Parts, ConvertError> {
    object_id(event)?;
    let module = event
        .data(&["module_id"])
        .ok_or_else(|| ConvertError::missing("event.module_id"))?;
    let index = event
        .data(&["hint_index"])
        .ok_or_else(|| ConvertError::missing("event.hint_index"))?;
    let id =
        lms_iri(options, "xblock", Some(module)).map(|iri| format!("{iri}/hint/{}", py_str(index)));
    Ok(Parts::of(Activity::new(id, TYPE_HINT)))
}

/// `edx.problem.completed`: the problem, identified by its bare usage key as ERB does.
pub(crate) fn completed(event: &Event, _options: &Options) -> Result<Parts, ConvertError> {
    let id = object_id(event)?.as_ref().map(py_str);
    Ok(Parts::of(Activity::new(id, TYPE_INTERACTION)))
}
