//! Browser video events (`load_video`, `play_video`, `pause_video`, `seek_video`,
//! `stop_video`) → statements of the xAPI Video Profile, as Ralph's `video.py`.

use serde_json::{json, Map, Value};

use crate::common::{
    base_statement, event_payload, float, get, non_negative, platform_base, profile_category,
    required_str, required_text,
};
use crate::{ConvertError, Options};

/// IRI of the xAPI Video Profile (the `category` activity of every video statement).
const PROFILE_VIDEO: &str = "https://w3id.org/xapi/video";
/// Activity type of a video.
const ACTIVITY_TYPE_VIDEO: &str = "https://w3id.org/xapi/video/activity-type/video";

/// Context extension: the id of the playing session.
const EXT_SESSION_ID: &str = "https://w3id.org/xapi/video/extensions/session-id";
/// Context extension: the length of the video in seconds.
const EXT_LENGTH: &str = "https://w3id.org/xapi/video/extensions/length";
/// Context extension: the browser's user agent.
const EXT_USER_AGENT: &str = "https://w3id.org/xapi/video/extensions/user-agent";
/// Result extension: the position in the video, in seconds.
const EXT_TIME: &str = "https://w3id.org/xapi/video/extensions/time";
/// Result extension: the position a seek started from.
const EXT_TIME_FROM: &str = "https://w3id.org/xapi/video/extensions/time-from";
/// Result extension: the position a seek went to.
const EXT_TIME_TO: &str = "https://w3id.org/xapi/video/extensions/time-to";
/// Result extension: the fraction of the video watched.
const EXT_PROGRESS: &str = "https://w3id.org/xapi/video/extensions/progress";

/// The video events this module converts, by edX `event_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum VideoEvent {
    /// `load_video` → initialized.
    Load,
    /// `play_video` → played.
    Play,
    /// `pause_video` → paused.
    Pause,
    /// `seek_video` → seeked.
    Seek,
    /// `stop_video` → terminated.
    Stop,
}

impl VideoEvent {
    /// The video event of a browser `event_type`, if it is one Ralph converts.
    pub(crate) fn from_event_type(event_type: &str) -> Option<Self> {
        Some(match event_type {
            "load_video" => VideoEvent::Load,
            "play_video" => VideoEvent::Play,
            "pause_video" => VideoEvent::Pause,
            "seek_video" => VideoEvent::Seek,
            "stop_video" => VideoEvent::Stop,
            _ => return None,
        })
    }

    /// The xAPI verb id of the statement.
    fn verb(self) -> &'static str {
        match self {
            VideoEvent::Load => "http://adlnet.gov/expapi/verbs/initialized",
            VideoEvent::Play => "https://w3id.org/xapi/video/verbs/played",
            VideoEvent::Pause => "https://w3id.org/xapi/video/verbs/paused",
            VideoEvent::Seek => "https://w3id.org/xapi/video/verbs/seeked",
            VideoEvent::Stop => "http://adlnet.gov/expapi/verbs/terminated",
        }
    }
}

/// Converts a browser video event to its Video Profile statement.
pub(crate) fn convert(
    kind: VideoEvent,
    event: &Value,
    id_source: &[u8],
    options: &Options,
) -> Result<Value, ConvertError> {
    let mut statement = base_statement(event, id_source, options)?;
    let payload = event_payload(event)?;
    let video_id = required_text(&payload, &["id"], "event.id")?;
    let course_id = required_str(event, &["context", "course_id"], "context.course_id")?;

    statement.insert("verb".into(), json!({ "id": kind.verb() }));
    // Ralph's object id, kept as is (including its `-course-v1:+` quirk): object ids
    // must stay equal to Ralph's for statements about the same video to match.
    let object_id = format!(
        "{}/xblock/block-v1:{course_id}-course-v1:+type@video+block@{video_id}",
        platform_base(options)
    );
    statement.insert(
        "object".into(),
        json!({
            "id": object_id,
            "definition": { "type": ACTIVITY_TYPE_VIDEO, "name": { "en-US": video_id } },
        }),
    );

    let mut result = Map::new();
    let mut extensions = Map::new();
    if let Some(session) = session_id(event)? {
        extensions.insert(EXT_SESSION_ID.into(), Value::String(session));
    }
    match kind {
        VideoEvent::Load => {
            // The length is mandatory in the profile and absent from edX events: Ralph writes 0.0.
            extensions.insert(EXT_LENGTH.into(), float(0.0));
            if let Some(Value::String(agent)) = get(event, &["agent"]) {
                if !agent.is_empty() {
                    extensions.insert(EXT_USER_AGENT.into(), Value::String(agent.clone()));
                }
            }
        }
        VideoEvent::Play => {
            let time = non_negative(&payload, &["currentTime"], "event.currentTime")?;
            result.insert(EXT_TIME.into(), float(time));
        }
        VideoEvent::Pause => {
            let time = non_negative(&payload, &["currentTime"], "event.currentTime")?;
            result.insert(EXT_TIME.into(), float(time));
            extensions.insert(EXT_LENGTH.into(), float(0.0));
        }
        VideoEvent::Seek => {
            let from = non_negative(&payload, &["old_time"], "event.old_time")?;
            let to = non_negative(&payload, &["new_time"], "event.new_time")?;
            result.insert(EXT_TIME_FROM.into(), float(from));
            result.insert(EXT_TIME_TO.into(), float(to));
        }
        VideoEvent::Stop => {
            let time = non_negative(&payload, &["currentTime"], "event.currentTime")?;
            result.insert(EXT_TIME.into(), float(time));
            // Progress and length are mandatory and unknown: Ralph writes 0.0 for both.
            result.insert(EXT_PROGRESS.into(), float(0.0));
            extensions.insert(EXT_LENGTH.into(), float(0.0));
        }
    }

    if !result.is_empty() {
        statement.insert("result".into(), json!({ "extensions": result }));
    }
    let mut context = Map::new();
    context.insert(
        "contextActivities".into(),
        json!({ "category": [profile_category(PROFILE_VIDEO)] }),
    );
    if !extensions.is_empty() {
        context.insert("extensions".into(), Value::Object(extensions));
    }
    statement.insert("context".into(), Value::Object(context));
    Ok(Value::Object(statement))
}

/// The edX `session` (a 32-hex-digit md5) as a hyphenated UUID, as Ralph's model writes it; `None` when empty.
fn session_id(event: &Value) -> Result<Option<String>, ConvertError> {
    let session = match get(event, &["session"]) {
        None => return Ok(None),
        Some(Value::String(s)) if s.is_empty() => return Ok(None),
        Some(Value::String(s)) => s,
        Some(_) => return Err(ConvertError::invalid("session", "expected a string")),
    };
    uuid::Uuid::parse_str(session)
        .map(|uuid| Some(uuid.to_string()))
        .map_err(|_| ConvertError::invalid("session", "expected 32 hexadecimal digits"))
}
