//! Every ERB fixture pair: `current/<name>.json`, written as a tracking-log line as
//! edx-platform's shim writes it, converts to exactly the statement(s) of
//! `expected/<name>.json` with the settings ERB's tests mock (one test per fixture).

mod common;

/// One test per fixture, named after it.
macro_rules! erb_fixtures {
    ($($test:ident => $name:literal,)*) => {
        $(
            #[test]
            fn $test() {
                common::assert_matches_erb($name);
            }
        )*
    };
}

erb_fixtures! {
    complete_video => "complete_video",
    edx_completion_block_completion_changed => "edx.completion.block_completion.changed",
    edx_course_enrollment_activated_enterprise => "edx.course.enrollment.activated.enterprise",
    edx_course_enrollment_activated => "edx.course.enrollment.activated",
    edx_course_enrollment_activated_required_only_data => "edx.course.enrollment.activated.required.only.data",
    edx_course_enrollment_deactivated => "edx.course.enrollment.deactivated",
    edx_course_enrollment_mode_changed => "edx.course.enrollment.mode_changed",
    edx_course_grade_now_failed => "edx.course.grade.now_failed",
    edx_course_grade_now_passed => "edx.course.grade.now_passed",
    edx_course_grade_passed_first_time => "edx.course.grade.passed.first_time",
    edx_forum_comment_created => "edx.forum.comment.created",
    edx_forum_comment_deleted => "edx.forum.comment.deleted",
    edx_forum_comment_edited => "edx.forum.comment.edited",
    edx_forum_comment_reported => "edx.forum.comment.reported",
    edx_forum_comment_unreported => "edx.forum.comment.unreported",
    edx_forum_response_created => "edx.forum.response.created",
    edx_forum_response_deleted => "edx.forum.response.deleted",
    edx_forum_response_edited => "edx.forum.response.edited",
    edx_forum_response_reported => "edx.forum.response.reported",
    edx_forum_response_unreported => "edx.forum.response.unreported",
    edx_forum_response_voted => "edx.forum.response.voted",
    edx_forum_thread_created => "edx.forum.thread.created",
    edx_forum_thread_deleted => "edx.forum.thread.deleted",
    edx_forum_thread_edited => "edx.forum.thread.edited",
    edx_forum_thread_reported => "edx.forum.thread.reported",
    edx_forum_thread_unreported => "edx.forum.thread.unreported",
    edx_forum_thread_viewed => "edx.forum.thread.viewed",
    edx_forum_thread_voted => "edx.forum.thread.voted",
    edx_grades_course_grade_calculated_letter_grade => "edx.grades.course.grade_calculated_letter_grade",
    edx_grades_course_grade_calculated_no_letter_grade => "edx.grades.course.grade_calculated_no_letter_grade",
    edx_grades_problem_submitted => "edx.grades.problem.submitted",
    edx_grades_problem_submitted_weighted_possible_0 => "edx.grades.problem.submitted.weighted_possible_0",
    edx_grades_subsection_grade_calculated => "edx.grades.subsection.grade_calculated",
    edx_grades_subsection_grade_calculated_weighted_possible_0 => "edx.grades.subsection.grade_calculated.weighted_possible_0",
    edx_problem_completed_proposed => "edx.problem.completed(proposed)",
    edx_problem_hint_demandhint_displayed => "edx.problem.hint.demandhint_displayed",
    edx_special_exam_practice_attempt_created => "edx.special_exam.practice.attempt.created",
    edx_special_exam_practice_attempt_submitted => "edx.special_exam.practice.attempt.submitted",
    edx_special_exam_proctored_attempt_created => "edx.special_exam.proctored.attempt.created",
    edx_special_exam_proctored_attempt_submitted => "edx.special_exam.proctored.attempt.submitted",
    edx_special_exam_timed_attempt_created => "edx.special_exam.timed.attempt.created",
    edx_special_exam_timed_attempt_submitted => "edx.special_exam.timed.attempt.submitted",
    edx_ui_lms_link_clicked => "edx.ui.lms.link_clicked",
    edx_ui_lms_link_clicked_required_only_data => "edx.ui.lms.link_clicked.required.only.data",
    edx_ui_lms_outline_selected => "edx.ui.lms.outline.selected",
    edx_ui_lms_sequence_next_selected => "edx.ui.lms.sequence.next_selected",
    edx_ui_lms_sequence_previous_selected => "edx.ui.lms.sequence.previous_selected",
    edx_ui_lms_sequence_tab_selected => "edx.ui.lms.sequence.tab_selected",
    edx_video_closed_captions_hidden => "edx.video.closed_captions.hidden",
    edx_video_closed_captions_shown => "edx.video.closed_captions.shown",
    hide_transcript => "hide_transcript",
    load_video => "load_video",
    load_video_required_only_data => "load_video.required.only.data",
    pause_video => "pause_video",
    play_video_ccx => "play_video.ccx",
    play_video => "play_video",
    problem_check_browser_ccx => "problem_check(browser).ccx",
    problem_check_browser => "problem_check(browser)",
    problem_check_browser_required_only_data => "problem_check(browser).required.only.data",
    problem_check_browser_legacy => "problem_check(browser)legacy",
    problem_check_server => "problem_check(server)",
    problem_check_server_list_answers => "problem_check(server).list_answers",
    problem_check_server_max_grade_0 => "problem_check(server).max_grade_0",
    problem_check_server_no_response_type => "problem_check(server)_no_response_type",
    problem_check_server_multiple_questions_correct => "problem_check(server,multiple_questions,correct)",
    problem_check_server_multiple_questions_incorrect => "problem_check(server,multiple_questions,incorrect)",
    problem_check_server_multiple_questions_partial_correct => "problem_check(server,multiple_questions,partial_correct)",
    problem_check_server_string_anwers => "problem_check(server,string_anwers)",
    problem_check_server_unsupported_responsetype => "problem_check(server,unsupported_responsetype)",
    seek_video => "seek_video",
    show_transcript => "show_transcript",
    showanswer => "showanswer",
    speed_change_video => "speed_change_video",
    stop_video => "stop_video",
    video_hide_cc_menu => "video_hide_cc_menu",
    video_show_cc_menu => "video_show_cc_menu",
}
