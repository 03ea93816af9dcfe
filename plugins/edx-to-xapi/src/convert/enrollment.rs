//! Enrollment and course pass/fail events: the course is the object, with the enrollment
//! mode as its `type` extension, and no context activities.

use crate::event::Event;
use crate::parts::{course_activity, Parts};
use crate::vocab::EXT_TYPE;
use crate::{ConvertError, Options};

/// The course of the event as the object.
pub(crate) fn course(event: &Event, options: &Options) -> Result<Parts, ConvertError> {
    let course_id = event
        .course_id()
        .ok_or_else(|| ConvertError::missing("context.course_id"))?;
    let mode = event.data(&["mode"]).cloned();
    let object = course_activity(options, course_id, "en").with_extensions(vec![(EXT_TYPE, mode)]);
    let mut parts = Parts::of(object);
    parts.course_parent = false;
    Ok(parts)
}
