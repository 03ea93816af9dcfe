//! Checking a valid statement again after some of its top-level properties changed (what a
//! plugin's merge patch does): properties whose rules involve no other property are checked
//! alone; a change to any other property checks the whole statement.

use serde_json::Value;

use crate::version::XapiVersion;

use super::agent::{validate_agent_or_group, validate_authority};
use super::{
    fail, object, timestamp, validate_result, validate_waiving, Ctx, Mode, Result, Rule,
    ValidationError,
};

/// Top-level properties whose rules involve no other property of the statement.
const CHECKED_ALONE: &[&str] = &["actor", "result", "timestamp", "stored", "authority"];

/// Checks `statement`, valid before its top-level properties `changed` changed, as
/// [`validate_waiving`] would: only the changed properties when each is checked alone (a
/// required one removed fails), else the whole statement.
pub fn validate_changed(
    statement: &Value,
    version: XapiVersion,
    waived: &[Rule],
    changed: &[impl AsRef<str>],
) -> Result<Vec<ValidationError>> {
    if !changed
        .iter()
        .all(|key| CHECKED_ALONE.contains(&key.as_ref()))
    {
        return validate_waiving(statement, version, waived);
    }
    let ctx = Ctx::new(version, Mode::Waive(waived));
    let map = object(statement, "")?;
    for key in changed {
        let key = key.as_ref();
        let Some(value) = map.get(key) else {
            if key == "actor" {
                return fail(Rule::Required, key, "is required");
            }
            continue;
        };
        if value.is_null() {
            return fail(Rule::Null, key, "must not be null");
        }
        match key {
            "actor" => validate_agent_or_group(value, key)?,
            "result" => validate_result(&ctx, value, key)?,
            "authority" => validate_authority(value)?,
            _ => timestamp(value, key)?,
        }
    }
    Ok(ctx.into_passed())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn statement() -> Value {
        json!({"id": "6690e6c9-3ef0-4ed3-8b37-7f3964730bee",
            "actor": {"mbox": "mailto:a@example.org"},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/passed"},
            "object": {"id": "http://example.org/course"}})
    }

    const V: XapiVersion = XapiVersion::V1_0_3;

    #[test]
    fn a_changed_actor_is_checked_alone_and_must_be_an_agent_or_group() {
        let mut s = statement();
        s["actor"] = json!({"account": {"homePage": "https://x.example", "name": "p"}});
        assert!(validate_changed(&s, V, &[], &["actor"]).is_ok());
        s["actor"] = json!({"mbox": "a@example.org"});
        assert!(validate_changed(&s, V, &[], &["actor"]).is_err());
        s.as_object_mut().unwrap().remove("actor");
        assert!(validate_changed(&s, V, &[], &["actor"]).is_err());
    }

    #[test]
    fn a_change_to_a_property_that_involves_others_checks_the_whole_statement() {
        // Voiding needs a StatementRef object: a rule across verb and object.
        let mut s = statement();
        s["verb"] = json!({"id": "http://adlnet.gov/expapi/verbs/voided"});
        assert!(validate_changed(&s, V, &[], &["verb"]).is_err());
        s["bogus"] = json!(1);
        assert!(validate_changed(&s, V, &[], &["bogus"]).is_err());
    }
}
