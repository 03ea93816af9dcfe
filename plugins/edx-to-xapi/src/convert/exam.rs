//! Special exam attempts (timed, practice, proctored): the exam is the object, the attempt a
//! grouping activity identified by its attempt code.

use crate::event::Event;
use crate::parts::{Activity, Parts};
use crate::pyfmt::py_str;
use crate::vocab::{
    EXT_ATTEMPT_COMPLETED, EXT_ATTEMPT_ID, EXT_ATTEMPT_STARTED, EXT_DURATION, EXT_TIME_LIMIT,
    TYPE_ATTEMPT, TYPE_PRACTICE_EXAM, TYPE_PROCTORED_EXAM, TYPE_TIMED_EXAM,
};
use crate::{ConvertError, Options};

/// The exam and its attempt.
pub(crate) fn attempt(event: &Event, _options: &Options) -> Result<Parts, ConvertError> {
    let kind = match event.name().split('.').nth(2) {
        Some("practice") => TYPE_PRACTICE_EXAM,
        Some("proctored") => TYPE_PROCTORED_EXAM,
        _ => TYPE_TIMED_EXAM,
    };
    let field = |key: &str| event.data(&[key]).cloned();
    let name = event.data(&["exam_name"]).map(py_str);
    let object = Activity::new(event.data(&["exam_content_id"]).map(py_str), kind)
        .named("en", name.as_deref())
        .with_extensions(vec![(
            EXT_TIME_LIMIT,
            field("exam_default_time_limit_mins"),
        )]);
    let attempt = Activity::new(event.data(&["attempt_code"]).map(py_str), TYPE_ATTEMPT)
        .named("en", name.as_deref())
        .with_extensions(vec![
            (EXT_ATTEMPT_STARTED, field("attempt_started_at")),
            (EXT_ATTEMPT_COMPLETED, field("attempt_completed_at")),
            (EXT_DURATION, field("attempt_event_elapsed_time_secs")),
            (EXT_ATTEMPT_ID, field("attempt_id")),
        ]);
    let mut parts = Parts::of(object);
    parts.grouping.push(attempt);
    Ok(parts)
}
