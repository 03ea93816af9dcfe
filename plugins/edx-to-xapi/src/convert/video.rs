//! Video events (legacy names and `edx.video.*`): the video block is the object, its length
//! a context extension, and the playhead, captions or speed the result.

use serde_json::Value;

use crate::event::{truthy, Event};
use crate::parts::{Activity, Outcome, Parts};
use crate::pyfmt::{iso_duration, py_str, seconds};
use crate::vocab::{
    EXT_SPEED_FROM, EXT_SPEED_TO, EXT_VIDEO_CC_ENABLED, EXT_VIDEO_LENGTH, EXT_VIDEO_TIME,
    EXT_VIDEO_TIME_FROM, EXT_VIDEO_TIME_TO, TYPE_VIDEO,
};
use crate::{ConvertError, Options};

/// Event names after which captions or the transcript are shown.
const SHOWN: [&str; 4] = [
    "edx.video.closed_captions.shown",
    "edx.video.transcript.shown",
    "video_show_cc_menu",
    "show_transcript",
];

/// The block version prefix of a course's usage keys: `block-v1`, or `ccx-block-v1` in a CCX.
pub(crate) fn block_version(course_id: &str) -> String {
    let kind = course_id.split(':').next().unwrap_or_default();
    let version = format!("block-{}", kind.rsplit('-').next().unwrap_or_default());
    if kind.contains("ccx") {
        format!("ccx-{version}")
    } else {
        version
    }
}

/// A usage key of `block_type` in the course: `{version}:{org+course+run}+type@{type}+block@{id}`.
pub(crate) fn usage_key(course_id: &str, block_type: &str, block_id: &str) -> Option<String> {
    let course = course_id.split(':').nth(1)?;
    Some(format!(
        "{}:{course}+type@{block_type}+block@{block_id}",
        block_version(course_id)
    ))
}

/// Seconds as a JSON float (absent when the event has none).
fn float(value: Option<f64>) -> Option<Value> {
    value.map(Value::from)
}

/// The playhead: `current_time` if set, else `currentTime`.
fn playhead(event: &Event) -> Option<f64> {
    let snake = event.data(&["current_time"]);
    let time = if truthy(snake) {
        snake
    } else {
        event.data(&["currentTime"])
    };
    seconds(time)
}

/// The parts every video statement has: the video and its length.
fn video(event: &Event, options: &Options) -> Result<Parts, ConvertError> {
    let course_id = event
        .course_id()
        .ok_or_else(|| ConvertError::missing("context.course_id"))?;
    let video_id = event
        .data(&["id"])
        .map(py_str)
        .ok_or_else(|| ConvertError::missing("event.id"))?;
    let key = usage_key(course_id, "video", &video_id)
        .ok_or_else(|| ConvertError::invalid("context.course_id", "not a course key"))?;
    let object = Activity::new(
        Some(format!("{}/xblock/{key}", options.platform_url)),
        TYPE_VIDEO,
    );
    let length = float(seconds(event.data(&["duration"])));
    Ok(Parts::of(object).with_extensions(vec![(EXT_VIDEO_LENGTH, length)]))
}

/// A result with only extensions.
fn extensions(entries: Vec<(&'static str, Option<Value>)>) -> Outcome {
    Outcome {
        extensions: Some(entries),
        ..Outcome::default()
    }
}

/// `load_video`, `edx.video.loaded`.
pub(crate) fn loaded(event: &Event, options: &Options) -> Result<Parts, ConvertError> {
    video(event, options)
}

/// Play, pause and stop: the playhead.
pub(crate) fn playback(event: &Event, options: &Options) -> Result<Parts, ConvertError> {
    let result = extensions(vec![(EXT_VIDEO_TIME, float(playhead(event)))]);
    Ok(video(event, options)?.with_result(result))
}

/// Captions and transcript shown or hidden: the playhead and whether they are now shown.
pub(crate) fn captions(event: &Event, options: &Options) -> Result<Parts, ConvertError> {
    let shown = SHOWN.contains(&event.name());
    let result = extensions(vec![
        (EXT_VIDEO_TIME, float(playhead(event))),
        (EXT_VIDEO_CC_ENABLED, Some(Value::Bool(shown))),
    ]);
    Ok(video(event, options)?.with_result(result))
}

/// `complete_video`, `edx.video.completed`: completion, with the length as time and duration.
pub(crate) fn completed(event: &Event, options: &Options) -> Result<Parts, ConvertError> {
    let length = seconds(event.data(&["duration"]));
    let result = Outcome {
        completion: Some(true),
        duration: length.map(iso_duration),
        extensions: Some(vec![(EXT_VIDEO_TIME, float(length))]),
        ..Outcome::default()
    };
    Ok(video(event, options)?.with_result(result))
}

/// `seek_video`, `edx.video.position.changed`: where the playhead went from and to.
pub(crate) fn seeked(event: &Event, options: &Options) -> Result<Parts, ConvertError> {
    let result = extensions(vec![
        (
            EXT_VIDEO_TIME_FROM,
            float(seconds(event.data(&["old_time"]))),
        ),
        (EXT_VIDEO_TIME_TO, float(seconds(event.data(&["new_time"])))),
    ]);
    Ok(video(event, options)?.with_result(result))
}

/// `speed_change_video`: the old and new speeds, as `1.25x`.
pub(crate) fn speed(event: &Event, options: &Options) -> Result<Parts, ConvertError> {
    let speed = |key: &str| {
        event
            .data(&[key])
            .map(|v| Value::String(format!("{}x", py_str(v))))
    };
    let result = extensions(vec![
        (EXT_SPEED_FROM, speed("old_speed")),
        (EXT_SPEED_TO, speed("new_speed")),
    ]);
    Ok(video(event, options)?.with_result(result))
}
