//! Agent and Group identity: the inverse functional identifier (IFI) as one comparable key.

use serde_json::Value;

/// The IFI of an Agent or identified Group as a single string, e.g. `mbox:mailto:a@b.c` or
/// `account:https://lms.example.org|user-1`; None for an anonymous Group or a non-agent.
pub fn ifi_key(agent: &Value) -> Option<String> {
    let obj = agent.as_object()?;
    if let Some(mbox) = obj.get("mbox").and_then(Value::as_str) {
        return Some(format!("mbox:{mbox}"));
    }
    if let Some(sha) = obj.get("mbox_sha1sum").and_then(Value::as_str) {
        return Some(format!("mbox_sha1sum:{}", sha.to_ascii_lowercase()));
    }
    if let Some(openid) = obj.get("openid").and_then(Value::as_str) {
        return Some(format!("openid:{openid}"));
    }
    let account = obj.get("account")?.as_object()?;
    let home = account.get("homePage")?.as_str()?;
    let name = account.get("name")?.as_str()?;
    Some(format!("account:{home}|{name}"))
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
