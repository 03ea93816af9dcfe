//! Agents and Groups: identifiers (exactly one IFI), members, and where a Group may stand.

use serde_json::{Map, Value};

use super::{fail, is_iri, join, no_nulls, object, only_keys, string, Result, Rule};
use crate::version::XapiVersion;

pub(super) fn validate_authority(authority: &Value) -> Result {
    validate_agent_or_group(authority, "authority")?;
    // A Group authority stands for three-legged OAuth: an anonymous Group of exactly two
    // Agents, the application and the user.
    if authority.get("objectType").and_then(Value::as_str) == Some("Group") {
        if ["mbox", "mbox_sha1sum", "openid", "account"]
            .iter()
            .any(|ifi| authority.get(ifi).is_some())
        {
            return fail(
                Rule::Authority,
                "authority",
                "an authority Group must be anonymous (no IFI)",
            );
        }
        let members = authority.get("member").and_then(Value::as_array);
        if members.is_none_or(|m| m.len() != 2) {
            return fail(
                Rule::Authority,
                "authority.member",
                "an authority Group must have exactly two members",
            );
        }
    }
    Ok(())
}

/// Checks an Agent or Group object.
pub fn validate_agent(agent: &Value, path: &str, _version: XapiVersion) -> Result {
    validate_agent_or_group(agent, path)
}

/// Checks the `agent` parameter of the State, Agent Profile and Agents resources: an Agent,
/// never a Group (Communication 2.3, 2.4, 2.6: "The "agent" parameter is an Agent Object and
/// not a Group").
pub fn validate_agent_parameter(agent: &Value, path: &str, version: XapiVersion) -> Result {
    if agent.get("objectType").and_then(Value::as_str) == Some("Group") {
        return fail(Rule::ObjectType,
            &join(path, "objectType"),
            "must be Agent, not Group: to keep data about an identified Group, send its identifier in an Agent",
        );
    }
    validate_agent(agent, path, version)
}

pub(super) fn validate_agent_or_group(value: &Value, path: &str) -> Result {
    let map = object(value, path)?;
    no_nulls(map, path)?;
    match map.get("objectType") {
        None => agent_body(map, path),
        Some(t) => match string(t, &join(path, "objectType"))? {
            "Agent" => agent_body(map, path),
            "Group" => group_body(map, path),
            _ => fail(
                Rule::ObjectType,
                &join(path, "objectType"),
                "must be Agent or Group",
            ),
        },
    }
}

fn agent_body(map: &Map<String, Value>, path: &str) -> Result {
    only_keys(
        map,
        path,
        &[
            "objectType",
            "name",
            "mbox",
            "mbox_sha1sum",
            "openid",
            "account",
        ],
    )?;
    let count = ifis(map, path)?;
    if count != 1 {
        return fail(
            Rule::Identifier,
            path,
            "an Agent must have exactly one identifier: mbox, mbox_sha1sum, openid or account",
        );
    }
    if let Some(name) = map.get("name") {
        string(name, &join(path, "name"))?;
    }
    Ok(())
}

fn group_body(map: &Map<String, Value>, path: &str) -> Result {
    only_keys(
        map,
        path,
        &[
            "objectType",
            "name",
            "mbox",
            "mbox_sha1sum",
            "openid",
            "account",
            "member",
        ],
    )?;
    let count = ifis(map, path)?;
    if count > 1 {
        return fail(
            Rule::Identifier,
            path,
            "a Group must have at most one identifier",
        );
    }
    if let Some(name) = map.get("name") {
        string(name, &join(path, "name"))?;
    }
    let member_path = join(path, "member");
    match map.get("member") {
        Some(Value::Array(members)) => {
            if count == 0 && members.is_empty() {
                return fail(
                    Rule::Group,
                    &member_path,
                    "an anonymous Group must list its members",
                );
            }
            for (i, m) in members.iter().enumerate() {
                let p = format!("{member_path}[{i}]");
                let mm = object(m, &p)?;
                no_nulls(mm, &p)?;
                match mm.get("objectType").and_then(Value::as_str) {
                    None | Some("Agent") => agent_body(mm, &p)?,
                    Some(_) => {
                        return fail(
                            Rule::Group,
                            &join(&p, "objectType"),
                            "a Group's members must be Agents",
                        )
                    }
                }
            }
        }
        Some(_) => return fail(Rule::Group, &member_path, "must be an array of Agents"),
        None if count == 0 => {
            return fail(
                Rule::Group,
                &member_path,
                "an anonymous Group must list its members",
            )
        }
        None => {}
    }
    Ok(())
}

/// Counts and checks the identifiers present.
fn ifis(map: &Map<String, Value>, path: &str) -> Result<usize> {
    let mut count = 0;
    if let Some(v) = map.get("mbox") {
        let p = join(path, "mbox");
        let s = string(v, &p)?;
        let email = s
            .strip_prefix("mailto:")
            .map_or_else(|| fail(Rule::Identifier, &p, "must be a mailto: IRI"), Ok)?;
        if !is_email(email) {
            return fail(
                Rule::Identifier,
                &p,
                "must be mailto: followed by an email address",
            );
        }
        count += 1;
    }
    if let Some(v) = map.get("mbox_sha1sum") {
        let p = join(path, "mbox_sha1sum");
        let s = string(v, &p)?;
        if s.len() != 40 || !s.chars().all(|c| c.is_ascii_hexdigit()) {
            return fail(Rule::Identifier, &p, "must be the 40 hex digits of a SHA-1");
        }
        count += 1;
    }
    if let Some(v) = map.get("openid") {
        let p = join(path, "openid");
        if !is_iri(string(v, &p)?) {
            return fail(Rule::Identifier, &p, "must be a URI");
        }
        count += 1;
    }
    if let Some(v) = map.get("account") {
        let p = join(path, "account");
        let account = object(v, &p)?;
        only_keys(account, &p, &["homePage", "name"])?;
        let home = account.get("homePage").map_or_else(
            || fail(Rule::Required, &join(&p, "homePage"), "is required"),
            Ok,
        )?;
        if !is_iri(string(home, &join(&p, "homePage"))?) {
            return fail(Rule::Iri, &join(&p, "homePage"), "must be an IRL");
        }
        let name = account.get("name").map_or_else(
            || fail(Rule::Required, &join(&p, "name"), "is required"),
            Ok,
        )?;
        string(name, &join(&p, "name"))?;
        count += 1;
    }
    Ok(count)
}

fn is_email(s: &str) -> bool {
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !s.chars().any(|c| c.is_whitespace() || c.is_control())
                && !domain.contains('@')
        }
        None => false,
    }
}
