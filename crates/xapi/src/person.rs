//! A person as erasure sees them: every inverse functional identifier they are known by, where
//! they appear in a statement, and their statements with those identifiers replaced by one
//! opaque account (pseudonymization).

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use crate::agent::{ifi_key, mbox_sha1sum};
use crate::validate::validate_agent;
use crate::version::XapiVersion;

/// The identifying properties of an Agent or Group.
const IFI_PROPERTIES: [&str; 4] = ["mbox", "mbox_sha1sum", "openid", "account"];

/// Why an agent cannot name a person, and the field that is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct PersonError {
    /// The JSON path of the field at fault, e.g. `agent.mbox[1]`.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

fn error(field: impl Into<String>, message: impl Into<String>) -> PersonError {
    PersonError {
        field: field.into(),
        message: message.into(),
    }
}

/// Where a person appears in a statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The statement is about them: actor, object, context instructor or team, a context agent
    /// or group, or a member of a group in one of these places.
    Subject,
    /// Mentioned elsewhere only: the authority, a sub-statement, an extension.
    Mentioned,
}

/// A person, by every IFI key they are known by (see [`crate::agent::ifi_key`]); an `mbox`
/// brings its `mbox_sha1sum` along, as a statement may name them by either.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    keys: BTreeSet<String>,
}

impl Person {
    /// The person an Agent (one IFI) or a Person object (`objectType: "Person"`, with arrays
    /// of `mbox`, `mbox_sha1sum`, `openid`, `account`) names; `path` names the value in errors.
    pub fn from_json(agent: &Value, path: &str) -> Result<Self, PersonError> {
        let Some(map) = agent.as_object() else {
            return Err(error(path, "must be an Agent or a Person object"));
        };
        let mut identified = Vec::new();
        if map.get("objectType").and_then(Value::as_str) == Some("Person") {
            for property in IFI_PROPERTIES {
                let Some(values) = map.get(property) else {
                    continue;
                };
                let Some(values) = values.as_array() else {
                    return Err(error(
                        format!("{path}.{property}"),
                        "a Person holds an array of each identifier",
                    ));
                };
                for (n, value) in values.iter().enumerate() {
                    let one = Value::Object(Map::from_iter([(property.into(), value.clone())]));
                    let field = format!("{path}.{property}[{n}]");
                    validate_agent(&one, &field, XapiVersion::V2_0_0)
                        .map_err(|e| error(field, e.to_string()))?;
                    identified.push(one);
                }
            }
            if identified.is_empty() {
                return Err(error(path, "a Person needs at least one identifier"));
            }
        } else {
            if map.get("objectType").and_then(Value::as_str) == Some("Group") {
                return Err(error(
                    format!("{path}.objectType"),
                    "erasure is of a person: give an Agent or a Person, not a Group",
                ));
            }
            validate_agent(agent, path, XapiVersion::V2_0_0)
                .map_err(|e| error(path, e.to_string()))?;
            identified.push(agent.clone());
        }
        let mut keys = BTreeSet::new();
        for agent in &identified {
            keys.extend(ifi_key(agent));
            if let Some(mbox) = agent.get("mbox").and_then(Value::as_str) {
                keys.insert(format!("mbox_sha1sum:{}", mbox_sha1sum(mbox)));
            }
        }
        Ok(Self { keys })
    }

    /// Every IFI key of the person, sorted.
    pub fn keys(&self) -> &BTreeSet<String> {
        &self.keys
    }

    /// Whether `agent` (an Agent or identified Group) is this person by its own IFI.
    fn is(&self, agent: &Value) -> bool {
        ifi_key(agent).is_some_and(|k| self.keys.contains(&k))
    }

    /// Whether `agent` is this person or a Group with them as a member.
    fn in_agent(&self, agent: &Value) -> bool {
        self.is(agent) || crate::agent::members(agent).iter().any(|m| self.is(m))
    }

    /// Where the person appears in `statement` (a stored statement); `None` when nowhere.
    pub fn role_in(&self, statement: &Value) -> Option<Role> {
        let context = statement.get("context");
        let listed = |list: &str, key: &str| -> Vec<&Value> {
            context
                .and_then(|c| c.get(list))
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|entry| entry.get(key))
                .collect()
        };
        let object = statement.get("object").filter(|o| {
            matches!(
                o.get("objectType").and_then(Value::as_str),
                Some("Agent" | "Group")
            )
        });
        let subject = statement
            .get("actor")
            .into_iter()
            .chain(object)
            .chain(context.and_then(|c| c.get("instructor")))
            .chain(context.and_then(|c| c.get("team")))
            .chain(listed("contextAgents", "agent"))
            .chain(listed("contextGroups", "group"))
            .any(|agent| self.in_agent(agent));
        if subject {
            Some(Role::Subject)
        } else if self.mentioned(statement) {
            Some(Role::Mentioned)
        } else {
            None
        }
    }

    /// Whether any object anywhere in `value` is this person by its IFI.
    fn mentioned(&self, value: &Value) -> bool {
        match value {
            Value::Object(map) => self.is(value) || map.values().any(|inner| self.mentioned(inner)),
            Value::Array(items) => items.iter().any(|inner| self.mentioned(inner)),
            _ => false,
        }
    }

    /// Replaces, anywhere in `value`, every object that is this person by its IFI with the
    /// opaque `account` (`{"homePage", "name"}`): its identifiers and its `name` go, its
    /// `objectType` stays. How many objects were replaced.
    pub fn pseudonymize(&self, value: &mut Value, account: &Value) -> usize {
        match value {
            Value::Object(map) => {
                let mut replaced = 0;
                if ifi_key(&Value::Object(map.clone())).is_some_and(|k| self.keys.contains(&k)) {
                    for property in IFI_PROPERTIES.iter().chain(&["name"]) {
                        map.remove(*property);
                    }
                    map.insert("account".into(), account.clone());
                    replaced += 1;
                }
                replaced
                    + map
                        .values_mut()
                        .map(|inner| self.pseudonymize(inner, account))
                        .sum::<usize>()
            }
            Value::Array(items) => items
                .iter_mut()
                .map(|inner| self.pseudonymize(inner, account))
                .sum(),
            _ => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn alice() -> Person {
        Person::from_json(&json!({"mbox": "mailto:alice@example.org"}), "agent").unwrap()
    }

    fn statement(actor: Value) -> Value {
        json!({"actor": actor, "verb": {"id": "http://v"}, "object": {"id": "http://a"},
               "authority": {"account": {"homePage": "http://lrs", "name": "lms"}}})
    }

    #[test]
    fn a_person_with_an_mbox_is_also_known_by_its_mbox_sha1sum() {
        let keys: Vec<_> = alice().keys().iter().cloned().collect();
        assert_eq!(
            keys,
            [
                "mbox:mailto:alice@example.org".to_string(),
                format!("mbox_sha1sum:{}", mbox_sha1sum("mailto:alice@example.org"))
            ]
        );
    }

    #[test]
    fn a_person_object_gathers_every_identifier_it_lists() {
        let person = Person::from_json(
            &json!({"objectType": "Person", "name": ["Alice"],
                    "mbox": ["mailto:alice@example.org"],
                    "account": [{"homePage": "https://lms.example.org", "name": "42"}]}),
            "agent",
        )
        .unwrap();
        assert!(person.keys().contains("account:https://lms.example.org|42"));
        assert_eq!(person.keys().len(), 3);
    }

    #[test]
    fn a_malformed_agent_is_refused_naming_the_field() {
        let bad = Person::from_json(
            &json!({"objectType": "Person", "mbox": ["alice@example.org"]}),
            "agent",
        )
        .unwrap_err();
        assert_eq!(bad.field, "agent.mbox[0]");
        let group = Person::from_json(
            &json!({"objectType": "Group", "mbox": "mailto:g@example.org"}),
            "agent",
        )
        .unwrap_err();
        assert_eq!(group.field, "agent.objectType");
        assert!(Person::from_json(&json!({"name": "nobody"}), "agent").is_err());
        assert!(Person::from_json(&json!({"objectType": "Person"}), "agent").is_err());
    }

    #[test]
    fn the_actor_a_group_member_and_a_context_agent_are_the_subject() {
        let alice_by_sha = json!({"mbox_sha1sum": mbox_sha1sum("alice@example.org")});
        assert_eq!(
            alice().role_in(&statement(alice_by_sha.clone())),
            Some(Role::Subject)
        );
        let group = json!({"objectType": "Group", "member": [alice_by_sha.clone()]});
        assert_eq!(alice().role_in(&statement(group)), Some(Role::Subject));
        let mut s = statement(json!({"mbox": "mailto:bob@example.org"}));
        s["context"] =
            json!({"contextAgents": [{"objectType": "contextAgent", "agent": alice_by_sha}]});
        assert_eq!(alice().role_in(&s), Some(Role::Subject));
    }

    #[test]
    fn the_authority_or_a_sub_statement_only_mentions_the_person() {
        let mut s = statement(json!({"mbox": "mailto:bob@example.org"}));
        s["authority"] = json!({"mbox": "mailto:alice@example.org"});
        assert_eq!(alice().role_in(&s), Some(Role::Mentioned));
        let mut s = statement(json!({"mbox": "mailto:bob@example.org"}));
        s["object"] = json!({"objectType": "SubStatement",
            "actor": {"mbox": "mailto:alice@example.org"}, "verb": {"id": "http://v"},
            "object": {"id": "http://a"}});
        assert_eq!(alice().role_in(&s), Some(Role::Mentioned));
        assert_eq!(
            alice().role_in(&statement(json!({"mbox": "mailto:bob@example.org"}))),
            None
        );
    }

    #[test]
    fn pseudonymization_replaces_every_identifier_and_name_of_the_person_only() {
        let mut s = statement(json!({"objectType": "Group", "name": "team",
            "member": [{"name": "Alice", "mbox": "mailto:alice@example.org"},
                       {"name": "Bob", "mbox": "mailto:bob@example.org"}]}));
        s["authority"] = json!({"objectType": "Agent", "mbox": "mailto:alice@example.org"});
        let account = json!({"homePage": "urn:xlrs:pseudonym", "name": "p1"});
        assert_eq!(alice().pseudonymize(&mut s, &account), 2);
        assert_eq!(s["actor"]["member"][0], json!({"account": account}));
        assert_eq!(s["actor"]["member"][1]["name"], "Bob");
        assert_eq!(
            s["authority"],
            json!({"objectType": "Agent", "account": account})
        );
        assert_eq!(alice().role_in(&s), None);
    }
}
