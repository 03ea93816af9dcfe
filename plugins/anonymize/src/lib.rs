//! `anonymize` — a transformer that pseudonymises actors: each actor's identifier (mbox,
//! mbox_sha1sum, openid or account) becomes an account whose name is a salted SHA-256 of it.
//!
//! Config: `salt` (required, keep it secret), `home_page` (default `https://anonymous.invalid`).

wit_bindgen::generate!({ world: "transformer", path: "../../wit/v0.1" });

use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use xlrs::plugin::host::config;


struct Anonymize;

/// The identifier of an Agent as one string, or None when it has none.
fn identifier(agent: &Value) -> Option<String> {
    for key in ["mbox", "mbox_sha1sum", "openid"] {
        if let Some(v) = agent.get(key).and_then(Value::as_str) {
            return Some(format!("{key}:{v}"));
        }
    }
    let account = agent.get("account")?;
    Some(format!(
        "account:{}|{}",
        account.get("homePage")?.as_str()?,
        account.get("name")?.as_str()?
    ))
}

fn pseudonymise(agent: &mut Value, salt: &str, home_page: &str) {
    let Some(id) = identifier(agent) else { return };
    let hash = hex::encode(Sha256::new().chain_update(salt).chain_update(id).finalize());
    if let Some(map) = agent.as_object_mut() {
        for key in ["mbox", "mbox_sha1sum", "openid", "account", "name"] {
            map.remove(key);
        }
        map.insert("account".into(), json!({ "homePage": home_page, "name": hash }));
    }
}

impl Guest for Anonymize {
    fn transform(statements: Vec<String>) -> Result<Vec<String>, Error> {
        let salt = config("salt").ok_or_else(|| Error {
            message: "anonymize needs a `salt` in its [config]".into(),
            statement_index: None,
        })?;
        let home_page = config("home_page").unwrap_or_else(|| "https://anonymous.invalid".into());
        statements
            .iter()
            .enumerate()
            .map(|(i, text)| {
                let mut s: Value = serde_json::from_str(text).map_err(|e| Error {
                    message: format!("not JSON: {e}"),
                    statement_index: Some(i as u32),
                })?;
                if let Some(actor) = s.get_mut("actor") {
                    pseudonymise(actor, &salt, &home_page);
                    if let Some(members) = actor.get_mut("member").and_then(Value::as_array_mut) {
                        members.iter_mut().for_each(|m| pseudonymise(m, &salt, &home_page));
                    }
                }
                Ok(s.to_string())
            })
            .collect()
    }
}

export!(Anonymize);
