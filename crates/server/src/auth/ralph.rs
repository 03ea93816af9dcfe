//! Ralph's credentials file (`auth.json`, written by `ralph auth`) as xlrs credentials: same
//! usernames, same bcrypt password hashes (users keep their passwords), the agent as the
//! authority, and the rights each user had in Ralph. Ralph enforces the scopes it lists only
//! with `RALPH_LRS_RESTRICT_BY_SCOPES=true` (its default is false: every user may do
//! everything, and Open edX Aspects lists a placeholder scope); so by default a user gets
//! `all`, and with `restrict_by_scopes` its listed scopes, mapped to xlrs's.

use serde::Deserialize;
use serde_json::Value;

use super::credentials::{Credential, CredentialError, Credentials};
use super::Scope;
use xlrs_xapi::version::XapiVersion;

/// One user of Ralph's `auth.json`.
#[derive(Debug, Deserialize)]
struct RalphUser {
    username: String,
    hash: String,
    #[serde(default)]
    scopes: Vec<String>,
    #[serde(default)]
    agent: Option<Value>,
    #[serde(default)]
    target: Option<String>,
}

/// The xlrs scope of a Ralph scope (none when xlrs has no scope as narrow), and what an
/// operator should know when it is not the same. An import never widens a right: Ralph's
/// read-only document scopes have no read-only equivalent among xAPI's scopes, so they are not
/// granted (Ralph serves no documents, so its users lose nothing they had).
fn scope_of(ralph: &str) -> Result<(Option<Scope>, Option<&'static str>), String> {
    let read_only = Some(
        "not granted: xAPI has no read-only scope for documents (Ralph serves none); grant `state` or `profile` with `xlrs auth add` if it should read and write them",
    );
    Ok(match ralph {
        "statements/write" => (Some(Scope::StatementsWrite), None),
        "statements/read" => (Some(Scope::StatementsRead), None),
        "statements/read/mine" => (Some(Scope::StatementsReadMine), None),
        "define" => (Some(Scope::Define), None),
        "all/read" => (Some(Scope::AllRead), None),
        "all" => (Some(Scope::All), None),
        "state/write" => (
            Some(Scope::State),
            Some("Ralph's state/write becomes xlrs's state, which reads State documents too"),
        ),
        "profile/write" => (
            Some(Scope::Profile),
            Some("Ralph's profile/write becomes xlrs's profile, which reads profiles too"),
        ),
        "state/read" | "profile/read" => (None, read_only),
        other => return Err(format!("Ralph scope `{other}` has no xlrs equivalent")),
    })
}

/// True for a bcrypt hash as Ralph writes them (`$2b$12$…`).
pub fn is_bcrypt(hash: &str) -> bool {
    ["$2a$", "$2b$", "$2y$"].iter().any(|p| hash.starts_with(p))
}

impl Credentials {
    /// Adds the users of Ralph's `auth.json` (`text`), replacing credentials of the same
    /// usernames, each with the rights it had in Ralph: `all`, or with `restrict_by_scopes`
    /// (Ralph ran with `RALPH_LRS_RESTRICT_BY_SCOPES=true`) its listed scopes. Returns what an
    /// operator should know of the import (scopes changed or not granted, Ralph features xlrs does
    /// not have).
    /// Nothing is added when any user cannot be imported.
    pub fn import_ralph(
        &mut self,
        text: &str,
        restrict_by_scopes: bool,
    ) -> Result<Vec<String>, CredentialError> {
        let users: Vec<RalphUser> = serde_json::from_str(text).map_err(|e| {
            CredentialError::Invalid(format!("not a Ralph auth.json (a list of users): {e}"))
        })?;
        let mut notes = Vec::new();
        if !restrict_by_scopes {
            notes.push(
                "Ralph enforces no scope unless RALPH_LRS_RESTRICT_BY_SCOPES=true (its default): every user gets `all`, as it had in Ralph; --restrict-by-scopes gives each its listed scopes instead"
                    .into(),
            );
        }
        let mut imported = Vec::with_capacity(users.len());
        for user in users {
            let fail =
                |why: String| CredentialError::Invalid(format!("user `{}`: {why}", user.username));
            if user.username.is_empty() || user.username.contains(':') {
                return Err(fail(
                    "the username must be non-empty and contain no ':'".into(),
                ));
            }
            if !is_bcrypt(&user.hash) {
                return Err(fail("the hash is not a bcrypt hash ($2b$…)".into()));
            }
            if let Some(agent) = &user.agent {
                xlrs_xapi::validate::validate_agent(agent, "agent", XapiVersion::V2_0_0)
                    .map_err(|e| fail(format!("the agent is not an Agent: {e}")))?;
            }
            let mut scopes: Vec<Scope> = Vec::new();
            let listed: &[String] = if restrict_by_scopes {
                &user.scopes
            } else {
                &[]
            };
            if !restrict_by_scopes {
                scopes.push(Scope::All);
            }
            for name in listed {
                let (scope, note) = match scope_of(name) {
                    Ok(found) => found,
                    Err(why) => {
                        notes.push(format!("user `{}`: {why}; left out", user.username));
                        continue;
                    }
                };
                if let Some(note) = note {
                    notes.push(format!("user `{}`: {name}: {note}", user.username));
                }
                if let Some(scope) = scope.filter(|s| !scopes.contains(s)) {
                    scopes.push(scope);
                }
            }
            if scopes.is_empty() {
                return Err(fail("none of its scopes has an xlrs equivalent".into()));
            }
            if let Some(target) = &user.target {
                notes.push(format!(
                    "user `{}`: Ralph's target `{target}` is not kept (xlrs stores every credential's statements in its one store)",
                    user.username
                ));
            }
            imported.push(Credential {
                username: user.username,
                hash: user.hash,
                scopes,
                agent: user.agent,
            });
        }
        for credential in imported {
            self.put(credential);
        }
        Ok(notes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `ralph auth -u erb -p erb-password -s statements/write -s state/read
    /// -M mailto:erb@example.org -w` writes (Ralph 5.1).
    const RALPH: &str = r#"[{"agent": {"mbox": "mailto:erb@example.org", "objectType": "Agent"},
        "scopes": ["state/read", "statements/write"],
        "hash": "$2b$12$Q41S6rmUhArqK3Lm2tgBuO1uVO9GvgNI/IDjwokFrt61dums8g0Ve", "username": "erb",
        "target": "xapi"}]"#;

    #[test]
    fn ralphs_users_keep_their_hash_and_agent_and_get_their_scopes_never_wider() {
        let mut c = Credentials::default();
        let notes = c.import_ralph(RALPH, true).expect("imports");
        let erb = &c.credentials[0];
        assert_eq!(erb.username, "erb");
        assert!(erb.hash.starts_with("$2b$12$"));
        assert_eq!(
            erb.scopes,
            [Scope::StatementsWrite],
            "state/read is not widened to state"
        );
        assert_eq!(
            erb.agent.as_ref().expect("an agent")["mbox"],
            "mailto:erb@example.org"
        );
        assert_eq!(
            notes.len(),
            2,
            "the scope not granted and the target: {notes:?}"
        );
    }

    #[test]
    fn without_ralphs_scope_restriction_every_user_gets_all_as_it_had_in_ralph() {
        // Open edX Aspects' auth.json: a placeholder scope and no restriction.
        let aspects = r#"[{"username": "lms", "scopes": ["ralph_scope"],
            "hash": "$2b$12$Q41S6rmUhArqK3Lm2tgBuO1uVO9GvgNI/IDjwokFrt61dums8g0Ve",
            "agent": {"account": {"name": "__server_lms", "homePage": "https://lms.example.org"}}}]"#;
        let mut c = Credentials::default();
        c.import_ralph(aspects, false).expect("imports");
        assert_eq!(c.credentials[0].scopes, [Scope::All]);
        let mut restricted = Credentials::default();
        assert!(
            restricted.import_ralph(aspects, true).is_err(),
            "with Ralph's restriction, a user with no scope xlrs knows cannot be imported"
        );
    }

    #[test]
    fn a_file_with_a_user_that_cannot_be_imported_imports_nothing() {
        let mut c = Credentials::default();
        let bad = RALPH.replace("$2b$12$", "plain");
        assert!(c.import_ralph(&bad, true).is_err());
        assert!(c.credentials.is_empty());
    }
}
