//! The table of converted events: for each event name ERB's xAPI backend handles, its verb
//! and the function that builds the object, result and extra context.

mod enrollment;
mod exam;
mod forum;
mod grading;
mod navigation;
mod problem;
mod problem_check;
mod video;

use serde_json::Value;

use crate::event::Event;
use crate::parts::Parts;
use crate::vocab::{self, Verb};
use crate::{statement, ConvertError, Options};

/// Builds the event-specific parts of the statement(s).
type Build = fn(&Event, &Options) -> Result<Parts, ConvertError>;

/// One converted event name.
struct Entry {
    /// The event name.
    name: &'static str,
    /// The verb.
    verb: Verb,
    /// The verb when the browser emitted the event, if it differs.
    browser_verb: Option<Verb>,
    /// The builder.
    build: Build,
}

/// Declares the table: `name => VERB, builder;` (`VERB / BROWSER_VERB` when they differ).
macro_rules! table {
    ($($name:literal => $verb:ident $(/ $browser:ident)?, $build:path;)*) => {
        &[$(Entry {
            name: $name,
            verb: vocab::$verb,
            browser_verb: table!(@browser $($browser)?),
            build: $build,
        },)*]
    };
    (@browser) => { None };
    (@browser $browser:ident) => { Some(vocab::$browser) };
}

/// Every event name converted, with its verb and builder.
static TABLE: &[Entry] = table! {
    "edx.course.enrollment.activated" => REGISTERED, enrollment::course;
    "edx.course.enrollment.mode_changed" => REGISTERED, enrollment::course;
    "edx.course.enrollment.deactivated" => UNREGISTERED, enrollment::course;
    "edx.course.grade.passed.first_time" => PASSED, enrollment::course;
    "edx.course.grade.now_passed" => PASSED, enrollment::course;
    "edx.course.grade.now_failed" => FAILED, enrollment::course;
    "edx.grades.course.grade_calculated" => EARNED, grading::course;
    "edx.grades.subsection.grade_calculated" => EARNED, grading::subsection;
    "edx.grades.problem.submitted" => ATTEMPTED, grading::problem;
    "edx.completion.block_completion.changed" => PROGRESSED, grading::completion;
    "problem_check" => EVALUATED / ATTEMPTED, problem_check::check;
    "showanswer" => ASKED, problem::answer_shown;
    "edx.problem.hint.demandhint_displayed" => ASKED, problem::hint_shown;
    "edx.problem.completed" => COMPLETED, problem::completed;
    "edx.special_exam.timed.attempt.created" => INITIALIZED, exam::attempt;
    "edx.special_exam.practice.attempt.created" => INITIALIZED, exam::attempt;
    "edx.special_exam.proctored.attempt.created" => INITIALIZED, exam::attempt;
    "edx.special_exam.timed.attempt.submitted" => TERMINATED, exam::attempt;
    "edx.special_exam.practice.attempt.submitted" => TERMINATED, exam::attempt;
    "edx.special_exam.proctored.attempt.submitted" => TERMINATED, exam::attempt;
    "edx.ui.lms.link_clicked" => NAVIGATED, navigation::link;
    "edx.ui.lms.outline.selected" => NAVIGATED, navigation::outline;
    "edx.ui.lms.sequence.outline.selected" => NAVIGATED, navigation::outline;
    "edx.ui.lms.sequence.next_selected" => NAVIGATED, navigation::sequence;
    "edx.ui.lms.sequence.previous_selected" => NAVIGATED, navigation::sequence;
    "edx.ui.lms.sequence.tab_selected" => NAVIGATED, navigation::sequence;
    "edx.forum.thread.created" => POSTED, forum::thread_created;
    "edx.forum.response.created" => POSTED, forum::post;
    "edx.forum.comment.created" => POSTED, forum::post;
    "edx.forum.thread.edited" => EDITED, forum::post;
    "edx.forum.response.edited" => EDITED, forum::post;
    "edx.forum.comment.edited" => EDITED, forum::post;
    "edx.forum.thread.deleted" => DELETED, forum::post;
    "edx.forum.response.deleted" => DELETED, forum::post;
    "edx.forum.comment.deleted" => DELETED, forum::post;
    "edx.forum.thread.viewed" => VIEWED, forum::post;
    "edx.forum.thread.voted" => VOTED, forum::voted;
    "edx.forum.response.voted" => VOTED, forum::voted;
    "edx.forum.thread.reported" => REPORTED, forum::post;
    "edx.forum.response.reported" => REPORTED, forum::post;
    "edx.forum.comment.reported" => REPORTED, forum::post;
    "edx.forum.thread.unreported" => UNREPORTED, forum::post;
    "edx.forum.response.unreported" => UNREPORTED, forum::post;
    "edx.forum.comment.unreported" => UNREPORTED, forum::post;
    "load_video" => INITIALIZED, video::loaded;
    "edx.video.loaded" => INITIALIZED, video::loaded;
    "play_video" => PLAYED, video::playback;
    "edx.video.played" => PLAYED, video::playback;
    "pause_video" => PAUSED, video::playback;
    "edx.video.paused" => PAUSED, video::playback;
    "stop_video" => TERMINATED, video::playback;
    "edx.video.stopped" => TERMINATED, video::playback;
    "complete_video" => COMPLETED, video::completed;
    "edx.video.completed" => COMPLETED, video::completed;
    "seek_video" => SEEKED, video::seeked;
    "edx.video.position.changed" => SEEKED, video::seeked;
    "speed_change_video" => INTERACTED, video::speed;
    "show_transcript" => INTERACTED, video::captions;
    "hide_transcript" => INTERACTED, video::captions;
    "edx.video.transcript.shown" => INTERACTED, video::captions;
    "edx.video.transcript.hidden" => INTERACTED, video::captions;
    "video_show_cc_menu" => INTERACTED, video::captions;
    "video_hide_cc_menu" => INTERACTED, video::captions;
    "edx.video.closed_captions.shown" => INTERACTED, video::captions;
    "edx.video.closed_captions.hidden" => INTERACTED, video::captions;
};

/// The names of the converted events, in table order.
pub(crate) fn names() -> impl Iterator<Item = &'static str> {
    TABLE.iter().map(|entry| entry.name)
}

/// The statements of `value`: empty when it is not an event or its name is not converted.
pub(crate) fn statements(value: &Value, options: &Options) -> Result<Vec<Value>, ConvertError> {
    let Some(event) = Event::read(value) else {
        return Ok(Vec::new());
    };
    let Some(entry) = TABLE.iter().find(|entry| entry.name == event.name()) else {
        return Ok(Vec::new());
    };
    let verb = match entry.browser_verb {
        Some(browser) if event.is_browser() => browser,
        _ => entry.verb,
    };
    let parts = (entry.build)(&event, options)?;
    statement::assemble(&event, options, verb, parts)
}
