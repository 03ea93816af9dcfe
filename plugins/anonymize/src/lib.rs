//! `anonymize` — a transformer that pseudonymises actors: each actor's identifier (mbox,
//! mbox_sha1sum, openid or account) becomes an account whose name is a salted SHA-256 of it.
//!
//! Config: `salt` (required, keep it secret), `home_page` (default `https://anonymous.invalid`).

use serde_json::Value;
use xlrs_plugin_sdk::ifi::salted_sha256;
use xlrs_plugin_sdk::{config, export_transformer, Account, Actor, Statement, Transformer};

struct Anonymize {
    /// The secret salt; None when the manifest forgot it (every batch then fails).
    salt: Option<String>,
    /// The homePage of the pseudonymous accounts.
    home_page: String,
}

impl Anonymize {
    fn pseudonymise(&self, actor: &mut Actor, salt: &str) {
        let Some(id) = actor.ifi() else { return };
        actor.mbox = None;
        actor.mbox_sha1sum = None;
        actor.openid = None;
        actor.name = None;
        actor.account = Some(Account {
            home_page: self.home_page.clone(),
            name: salted_sha256(salt, &id),
        });
    }
}

impl Transformer for Anonymize {
    fn new() -> Self {
        Anonymize {
            salt: config("salt"),
            home_page: config("home_page").unwrap_or_else(|| "https://anonymous.invalid".into()),
        }
    }

    fn transform_batch(
        &mut self,
        mut statements: Vec<Statement>,
    ) -> Result<Vec<Statement>, xlrs_plugin_sdk::Rejection> {
        let salt = self.salt.clone().ok_or_else(|| {
            xlrs_plugin_sdk::Rejection::failure("anonymize needs a `salt` in its [config]")
        })?;
        for statement in &mut statements {
            self.pseudonymise(&mut statement.actor, &salt);
            if let Some(members) = statement.actor.extra.get_mut("member").and_then(Value::as_array_mut) {
                for member in members {
                    if let Ok(mut agent) = serde_json::from_value::<Actor>(member.clone()) {
                        self.pseudonymise(&mut agent, &salt);
                        if let Ok(v) = serde_json::to_value(agent) {
                            *member = v;
                        }
                    }
                }
            }
        }
        Ok(statements)
    }
}

export_transformer!(Anonymize);
