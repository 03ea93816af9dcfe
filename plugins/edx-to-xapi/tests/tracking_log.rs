//! `tests/data/openedx-erb/tracking.log`: every fixture ERB's test compares (an expected file,
//! and a statement ERB makes: not the anonymous user's), as the tracking-log line edx-platform
//! writes for it, one a line in the order of their names. It is the input of the black-box
//! test of `xlrs convert`; this test keeps it what the shim writes (`XLRS_REGENERATE=1`
//! rewrites it).

mod common;

/// The fixtures ERB's test compares, in name order.
fn compared() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(common::fixtures().join("expected"))
        .expect("the expected fixtures")
        .map(|e| e.expect("an entry").file_name().to_string_lossy().into_owned())
        .filter_map(|f| f.strip_suffix(".json").map(str::to_string))
        .filter(|name| !name.contains("anonymous_user"))
        .collect();
    names.sort();
    names
}

#[test]
fn the_tracking_log_of_erbs_fixtures_is_what_edx_platform_writes_for_them() {
    let names = compared();
    assert_eq!(names.len(), 76);
    let text: String = names
        .iter()
        .map(|name| format!("{}\n", common::tracking_line(name)))
        .collect();
    let path = common::fixtures().join("tracking.log");
    if std::env::var_os("XLRS_REGENERATE").is_some() {
        std::fs::write(&path, &text).expect("writes tracking.log");
    }
    let kept = std::fs::read_to_string(&path).expect("tests/data/openedx-erb/tracking.log");
    assert!(kept == text, "tracking.log is stale: XLRS_REGENERATE=1 rewrites it");
}
