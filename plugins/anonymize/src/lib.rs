//! `anonymize` — a transformer that pseudonymises actors: each actor's identifier (mbox,
//! mbox_sha1sum, openid or account) becomes an account whose name is a salted SHA-256 of it,
//! and so does each member's of a Group actor.
//!
//! Config: `salt` (required, keep it secret), `home_page` (default `https://anonymous.invalid`).
//!
//! Built for the v0.2 contract (it reads `/actor` and answers a merge patch); with the feature
//! `v0_1`, the same rewrite as a v0.1 transformer (whole statements in and out), kept to
//! measure what v0.2 saves (`bench/plugins-v02.sh`).

use serde_json::Value;
use xlrs_plugin_sdk::ifi::salted_sha256;
use xlrs_plugin_sdk::{config, Account, Actor};

#[cfg(feature = "fields")]
mod fields;
#[cfg(all(feature = "v0_1", not(feature = "fields")))]
mod texts;

/// The name of an agent's pseudonymous account: a salted SHA-256 of its identifier (None
/// without one).
fn pseudonym(actor: &Actor, salt: &str) -> Option<String> {
    Some(salted_sha256(salt, &actor.ifi()?))
}

/// The plugin's settings.
struct Anonymize {
    /// The secret salt; None when the manifest forgot it (every batch then fails).
    salt: Option<String>,
    /// The homePage of the pseudonymous accounts.
    home_page: String,
    /// Agents' merge patches (None: nothing to hide) by the actor's JSON text.
    #[cfg(feature = "fields")]
    patches: std::collections::HashMap<String, Option<String>>,
}

impl Anonymize {
    fn new() -> Self {
        Anonymize {
            salt: config("salt"),
            home_page: config("home_page").unwrap_or_else(|| "https://anonymous.invalid".into()),
            #[cfg(feature = "fields")]
            patches: std::collections::HashMap::new(),
        }
    }

    /// The salt, or the plugin's failure.
    fn salt(&self) -> Result<String, xlrs_plugin_sdk::Rejection> {
        self.salt.clone().ok_or_else(|| {
            xlrs_plugin_sdk::Rejection::failure("anonymize needs a `salt` in its [config]")
        })
    }

    /// The pseudonymous account of an agent with an identifier.
    fn account(&self, actor: &Actor, salt: &str) -> Option<Account> {
        Some(Account {
            home_page: self.home_page.clone(),
            name: pseudonym(actor, salt)?,
        })
    }

    /// Replaces an agent's identifier (and name) with its pseudonymous account.
    fn pseudonymise(&self, actor: &mut Actor, salt: &str) {
        let Some(account) = self.account(actor, salt) else {
            return;
        };
        actor.mbox = None;
        actor.mbox_sha1sum = None;
        actor.openid = None;
        actor.name = None;
        actor.account = Some(account);
    }

    /// A Group's members, pseudonymised (a member that is not an agent is left as it is).
    fn members(&self, members: &[Value], salt: &str) -> Vec<Value> {
        members
            .iter()
            .map(|member| {
                serde_json::from_value::<Actor>(member.clone())
                    .ok()
                    .and_then(|mut agent| {
                        self.pseudonymise(&mut agent, salt);
                        serde_json::to_value(agent).ok()
                    })
                    .unwrap_or_else(|| member.clone())
            })
            .collect()
    }
}
