//! Server enrollment events (`edx.course.enrollment.activated` / `deactivated`) →
//! LMS Profile registered / unregistered statements on the course, as Ralph's
//! `enrollment.py`.

use serde_json::{json, Value};

use crate::common::{base_statement, event_payload, platform_base, profile_category, required_str};
use crate::{ConvertError, Options};

/// IRI of the xAPI LMS Profile (the `category` activity of enrollment statements).
const PROFILE_LMS: &str = "https://w3id.org/xapi/lms";
/// Activity type of a course.
const ACTIVITY_TYPE_COURSE: &str = "http://adlnet.gov/expapi/activities/course";
/// Verb of `edx.course.enrollment.activated`.
const VERB_REGISTERED: &str = "http://adlnet.gov/expapi/verbs/registered";
/// Verb of `edx.course.enrollment.deactivated`.
const VERB_UNREGISTERED: &str = "http://id.tincanapi.com/verb/unregistered";

/// Converts an enrollment event; `activated` selects registered (true) or unregistered (false).
pub(crate) fn convert(
    activated: bool,
    event: &Value,
    id_source: &[u8],
    options: &Options,
) -> Result<Value, ConvertError> {
    let mut statement = base_statement(event, id_source, options)?;
    let payload = event_payload(event)?;
    let course_id = required_str(&payload, &["course_id"], "event.course_id")?;
    let verb = if activated {
        VERB_REGISTERED
    } else {
        VERB_UNREGISTERED
    };
    statement.insert("verb".into(), json!({ "id": verb }));
    statement.insert(
        "object".into(),
        json!({
            "id": format!("{}/courses/{}/info", platform_base(options), course_id.trim_matches('/')),
            "definition": { "type": ACTIVITY_TYPE_COURSE },
        }),
    );
    statement.insert(
        "context".into(),
        json!({ "contextActivities": { "category": [profile_category(PROFILE_LMS)] } }),
    );
    Ok(Value::Object(statement))
}
