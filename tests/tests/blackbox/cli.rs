//! The command line and the operator interface.

use std::process::Command;

use xlrs_tests::run_cli;

use crate::XLRS;

#[test]
fn first_start_creates_an_admin_with_a_random_password_in_a_private_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(XLRS)
        .arg("serve")
        .env("XLRS_LISTEN", "127.0.0.1:0")
        .env("XLRS_DATA_DIR", dir.path())
        .env_remove("XLRS_ADMIN_USER")
        .env_remove("XLRS_ADMIN_PASSWORD")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let file = dir.path().join("initial-credentials");
    let mut waited = 0;
    while !file.exists() && waited < 300 {
        std::thread::sleep(std::time::Duration::from_millis(100));
        waited += 1;
    }
    let _ = child.kill();
    let _ = child.wait();
    let text = std::fs::read_to_string(&file).expect("initial-credentials written");
    assert!(text.contains("username=admin"));
    let password = text
        .lines()
        .find_map(|l| l.strip_prefix("password="))
        .unwrap();
    assert!(password.len() >= 20);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let creds = std::fs::read_to_string(dir.path().join("credentials.json")).unwrap();
    assert!(
        !creds.contains(password),
        "the credentials file holds a hash, never the password"
    );
    assert!(creds.contains("$argon2"));
}

#[test]
fn an_unknown_setting_stops_start_up_with_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    for (key, value) in [
        ("XLRS_NO_SUCH_SETTING", "1"),
        ("XLRS_LISTEN", "nonsense"),
        ("XLRS_STORE", "nope"),
    ] {
        let out = Command::new(XLRS)
            .arg("serve")
            .env("XLRS_DATA_DIR", dir.path())
            .env(key, value)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{key}={value}");
        assert!(!out.stderr.is_empty(), "a message says why");
    }
}

#[test]
fn auth_add_list_and_remove_manage_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_cli(
        XLRS,
        dir.path(),
        &[
            "auth",
            "add",
            "--username",
            "u1",
            "--password",
            "p4ssword!",
            "--scope",
            "statements/read",
            "--scope",
            "state",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list = String::from_utf8(run_cli(XLRS, dir.path(), &["auth", "list"]).stdout).unwrap();
    assert!(list.contains("u1\tstatements/read state"), "{list}");
    assert!(!list.contains("p4ssword!"));
    let out = run_cli(
        XLRS,
        dir.path(),
        &[
            "auth",
            "add",
            "--username",
            "u2",
            "--password",
            "x",
            "--scope",
            "everything",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "an unknown scope is a usage error"
    );
    assert!(
        run_cli(XLRS, dir.path(), &["auth", "remove", "--username", "u1"])
            .status
            .success()
    );
    assert!(
        !run_cli(XLRS, dir.path(), &["auth", "remove", "--username", "u1"])
            .status
            .success()
    );
}
