//! The xAPI vocabulary ERB writes: verb IRIs and their English display, activity types and
//! extension keys (from the ADL, TinCan registry, Video, acrossx, cmi5 and Open edX profiles).

/// A verb: its IRI and its `display` in English (`{"en": …}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Verb {
    /// The verb IRI.
    pub id: &'static str,
    /// The English display name.
    pub display: &'static str,
}

/// Declares the verbs as constants.
macro_rules! verbs {
    ($($name:ident = $id:literal, $display:literal;)*) => {
        $(
            #[doc = concat!("The `", $display, "` verb.")]
            pub(crate) const $name: Verb = Verb { id: $id, display: $display };
        )*
    };
}

verbs! {
    EVALUATED = "https://w3id.org/xapi/acrossx/verbs/evaluated", "evaluated";
    ASKED = "http://adlnet.gov/expapi/verbs/asked", "asked";
    ATTEMPTED = "http://adlnet.gov/expapi/verbs/attempted", "attempted";
    COMPLETED = "http://adlnet.gov/expapi/verbs/completed", "completed";
    DELETED = "https://w3id.org/xapi/dod-isd/verbs/deleted", "deleted";
    EARNED = "http://id.tincanapi.com/verb/earned", "earned";
    EDITED = "https://w3id.org/xapi/acrossx/verbs/edited", "edited";
    FAILED = "http://adlnet.gov/expapi/verbs/failed", "failed";
    INITIALIZED = "http://adlnet.gov/expapi/verbs/initialized", "initialized";
    INTERACTED = "http://adlnet.gov/expapi/verbs/interacted", "interacted";
    NAVIGATED = "https://w3id.org/xapi/dod-isd/verbs/navigated", "navigated";
    PASSED = "http://adlnet.gov/expapi/verbs/passed", "passed";
    PAUSED = "https://w3id.org/xapi/video/verbs/paused", "paused";
    PLAYED = "https://w3id.org/xapi/video/verbs/played", "played";
    POSTED = "https://w3id.org/xapi/acrossx/verbs/posted", "posted";
    PROGRESSED = "http://adlnet.gov/expapi/verbs/progressed", "progressed";
    REGISTERED = "http://adlnet.gov/expapi/verbs/registered", "registered";
    REPORTED = "https://w3id.org/xapi/acrossx/verbs/reported", "reported";
    SEEKED = "https://w3id.org/xapi/video/verbs/seeked", "seeked";
    TERMINATED = "http://adlnet.gov/expapi/verbs/terminated", "terminated";
    UNREGISTERED = "http://id.tincanapi.com/verb/unregistered", "unregistered";
    UNREPORTED = "https://w3id.org/xapi/openedx/verb/unreported", "unreported";
    VIEWED = "http://id.tincanapi.com/verb/viewed", "viewed";
    VOTED = "https://w3id.org/xapi/openedx/verb/voted", "voted";
}

/// Activity type of a course.
pub(crate) const TYPE_COURSE: &str = "http://adlnet.gov/expapi/activities/course";
/// Activity type of a course section (outline entry).
pub(crate) const TYPE_MODULE: &str = "http://adlnet.gov/expapi/activities/module";
/// Activity type of a generic course block.
pub(crate) const TYPE_RESOURCE: &str = "http://id.tincanapi.com/activitytype/resource";
/// Activity type of a video.
pub(crate) const TYPE_VIDEO: &str = "https://w3id.org/xapi/video/activity-type/video";
/// Activity type of a forum post or thread.
pub(crate) const TYPE_DISCUSSION: &str = "http://id.tincanapi.com/activitytype/discussion";
/// Activity type of a link.
pub(crate) const TYPE_LINK: &str = "http://adlnet.gov/expapi/activities/link";
/// Activity type of a graded question.
pub(crate) const TYPE_QUESTION: &str = "http://adlnet.gov/expapi/activities/question";
/// Activity type of a shown answer.
pub(crate) const TYPE_SOLUTION: &str = "http://id.tincanapi.com/activitytype/solution";
/// Activity type of a hint (ERB uses the acrossx extension IRI as a type).
pub(crate) const TYPE_HINT: &str = "https://w3id.org/xapi/acrossx/extensions/supplemental-info";
/// Activity type of a problem interaction.
pub(crate) const TYPE_INTERACTION: &str = "http://adlnet.gov/expapi/activities/cmi.interaction";
/// Activity type of an exam attempt.
pub(crate) const TYPE_ATTEMPT: &str = "http://adlnet.gov/expapi/activities/attempt";
/// Activity type of a timed exam.
pub(crate) const TYPE_TIMED_EXAM: &str = "https://w3id.org/xapi/openedx/activity/timed-assessment";
/// Activity type of a practice exam.
pub(crate) const TYPE_PRACTICE_EXAM: &str =
    "https://w3id.org/xapi/openedx/activity/practice-assessment";
/// Activity type of a proctored exam.
pub(crate) const TYPE_PROCTORED_EXAM: &str =
    "https://w3id.org/xapi/openedx/activity/proctored-assessment";

/// Context extension: the ERB release that made the statement.
pub(crate) const EXT_TRANSFORMER_VERSION: &str =
    "https://w3id.org/xapi/openedx/extension/transformer-version";
/// Context extension: the learner's LMS session.
pub(crate) const EXT_SESSION_ID: &str = "https://w3id.org/xapi/openedx/extensions/session-id";
/// Enrollment mode, thread type or vote value.
pub(crate) const EXT_TYPE: &str = "https://w3id.org/xapi/acrossx/extensions/type";
/// Number of units of a sequence.
pub(crate) const EXT_TOTAL_ITEMS: &str = "https://w3id.org/xapi/acrossx/extensions/total-items";
/// Unit navigated from.
pub(crate) const EXT_STARTING_POSITION: &str =
    "http://id.tincanapi.com/extension/starting-position";
/// Unit navigated to.
pub(crate) const EXT_ENDING_POINT: &str = "http://id.tincanapi.com/extension/ending-point";
/// Attempt number (problems) or attempt id (exams).
pub(crate) const EXT_ATTEMPT_ID: &str = "http://id.tincanapi.com/extension/attempt-id";
/// Letter grade of a course grade.
pub(crate) const EXT_GRADE_CLASSIFICATION: &str =
    "http://www.tincanapi.co.uk/activitytypes/grade_classification";
/// Completion progress, in percent.
pub(crate) const EXT_PROGRESS: &str = "https://w3id.org/xapi/cmi5/result/extensions/progress";
/// Exam time limit, in minutes.
pub(crate) const EXT_TIME_LIMIT: &str = "https://w3id.org/xapi/acrossx/extensions/time-limit";
/// When an exam attempt started.
pub(crate) const EXT_ATTEMPT_STARTED: &str =
    "https://w3id.org/xapi/openedx/extension/attempt-started";
/// When an exam attempt was completed.
pub(crate) const EXT_ATTEMPT_COMPLETED: &str =
    "https://w3id.org/xapi/openedx/extension/attempt-completed";
/// Elapsed time of an exam attempt, in seconds.
pub(crate) const EXT_DURATION: &str = "http://id.tincanapi.com/extension/duration";
/// Video length, in seconds.
pub(crate) const EXT_VIDEO_LENGTH: &str = "https://w3id.org/xapi/video/extensions/length";
/// Playhead position, in seconds.
pub(crate) const EXT_VIDEO_TIME: &str = "https://w3id.org/xapi/video/extensions/time";
/// Playhead position before a seek.
pub(crate) const EXT_VIDEO_TIME_FROM: &str = "https://w3id.org/xapi/video/extensions/time-from";
/// Playhead position after a seek.
pub(crate) const EXT_VIDEO_TIME_TO: &str = "https://w3id.org/xapi/video/extensions/time-to";
/// Whether captions or the transcript are shown.
pub(crate) const EXT_VIDEO_CC_ENABLED: &str = "https://w3id.org/xapi/video/extensions/cc-enabled";
/// Playback speed before a change.
pub(crate) const EXT_SPEED_FROM: &str = "https://w3id.org/xapi/openedx/extension/speed-from";
/// Playback speed after a change.
pub(crate) const EXT_SPEED_TO: &str = "https://w3id.org/xapi/openedx/extension/speed-to";
