//! Agent and Group identity: the inverse functional identifier (IFI) as one comparable key.

use serde_json::Value;
use sha1::{Digest, Sha1};

/// The identifying properties of an Agent or Group, borrowed from wherever they are held (a
/// JSON value here, a typed struct in the plugin SDK), so there is one IFI rule.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IfiParts<'a> {
    /// `mbox`, a `mailto:` IRI.
    pub mbox: Option<&'a str>,
    /// `mbox_sha1sum`, hex.
    pub mbox_sha1sum: Option<&'a str>,
    /// `openid`, a URI.
    pub openid: Option<&'a str>,
    /// `account` as (homePage, name).
    pub account: Option<(&'a str, &'a str)>,
}

impl IfiParts<'_> {
    /// The IFI as one key: the first of mbox, mbox_sha1sum (lowercase: it is hex), openid,
    /// account, e.g. `mbox:mailto:a@b.c` or `account:https://lms.example.org|user-1`.
    pub fn key(&self) -> Option<String> {
        if let Some(mbox) = self.mbox {
            return Some(format!("mbox:{mbox}"));
        }
        if let Some(sha) = self.mbox_sha1sum {
            return Some(format!("mbox_sha1sum:{}", sha.to_ascii_lowercase()));
        }
        if let Some(openid) = self.openid {
            return Some(format!("openid:{openid}"));
        }
        let (home, name) = self.account?;
        Some(format!("account:{home}|{name}"))
    }
}

/// The identifying properties of an agent-like JSON value (none for a non-object).
pub fn ifi_parts(agent: &Value) -> IfiParts<'_> {
    let text = |key: &str| agent.get(key).and_then(Value::as_str);
    let account = agent
        .get("account")
        .and_then(|a| Some((a.get("homePage")?.as_str()?, a.get("name")?.as_str()?)));
    IfiParts {
        mbox: text("mbox"),
        mbox_sha1sum: text("mbox_sha1sum"),
        openid: text("openid"),
        account,
    }
}

/// The IFI of an Agent or identified Group as a single string, e.g. `mbox:mailto:a@b.c` or
/// `account:https://lms.example.org|user-1`; None for an anonymous Group or a non-agent.
pub fn ifi_key(agent: &Value) -> Option<String> {
    ifi_parts(agent).key()
}

/// The `mbox_sha1sum` of an mbox (`mailto:` added when missing): the SHA-1 (hex) xAPI names.
pub fn mbox_sha1sum(mbox: &str) -> String {
    let mut hash = Sha1::new();
    if !mbox.starts_with("mailto:") {
        hash.update(b"mailto:");
    }
    hash.update(mbox.as_bytes());
    hex::encode(hash.finalize())
}

/// True for a value whose objectType is Group.
pub fn is_group(agent: &Value) -> bool {
    agent.get("objectType").and_then(Value::as_str) == Some("Group")
}

/// The members of a Group (empty for an Agent).
pub fn members(agent: &Value) -> &[Value] {
    agent
        .get("member")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// The keys under which an actor-like value is found: its own IFI and, for a Group, its members'.
pub fn keys_with_members(agent: &Value) -> Vec<String> {
    let mut keys: Vec<String> = ifi_key(agent).into_iter().collect();
    if is_group(agent) {
        keys.extend(members(agent).iter().filter_map(ifi_key));
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn agents_with_the_same_ifi_have_the_same_key() {
        let a = json!({"mbox": "mailto:a@example.org", "name": "A"});
        let b = json!({"objectType": "Agent", "mbox": "mailto:a@example.org"});
        assert_eq!(ifi_key(&a), ifi_key(&b));
    }

    #[test]
    fn an_mbox_sha1sum_is_the_same_key_in_either_case() {
        let lower = json!({"mbox_sha1sum": "53d04bc579b8b4d082ca4a530642845e2c0bfe74"});
        let upper = json!({"mbox_sha1sum": "53D04BC579B8B4D082CA4A530642845E2C0BFE74"});
        assert_eq!(ifi_key(&lower), ifi_key(&upper));
    }

    #[test]
    fn the_mbox_sha1sum_of_an_mbox_is_the_sha1_of_its_mailto_iri() {
        // sha1("mailto:test@example.com")
        let known = "53d04bc579b8b4d082ca4a530642845e2c0bfe74";
        assert_eq!(mbox_sha1sum("test@example.com"), known);
        assert_eq!(mbox_sha1sum("mailto:test@example.com"), known);
    }

    #[test]
    fn an_account_key_holds_home_page_and_name() {
        let a = json!({"account": {"homePage": "https://h.example", "name": "u1"}});
        assert_eq!(ifi_key(&a).unwrap(), "account:https://h.example|u1");
    }

    #[test]
    fn an_anonymous_group_has_no_key_but_its_members_do() {
        let g = json!({"objectType": "Group", "member": [{"mbox": "mailto:m@example.org"}]});
        assert_eq!(ifi_key(&g), None);
        assert_eq!(keys_with_members(&g), vec!["mbox:mailto:m@example.org"]);
    }
}
