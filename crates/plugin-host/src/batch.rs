//! What a v0.2 validator or transformer works on: the host's parsed statements, lent to the
//! call's store, read through one `statement` handle each (`Slot`); and what a transformer's
//! changes do to them (RFC 7396 merge patches, or a whole statement), validated again only
//! where something changed: a patch's properties alone where their rules involve no other.

use serde_json::{Map, Value};
use wasmtime::component::Resource;

use xlrs_xapi::validate::{validate_changed, validate_waiving, Rule};
use xlrs_xapi::version::XapiVersion;

use crate::bindings::v0_2::field_validator::xlrs::plugin::statements::{Host, HostStatement};
use crate::bindings::v0_2::Change;
use crate::instance::CallState;

/// A handle on one statement of the batch lent to a call: its index.
pub struct Slot;

/// The handles a call passes for a batch of `len` statements. They are owned by the guest
/// (a list of borrowed handles is what wit-bindgen 0.61 cannot lift into Rust), but name
/// only a position in the batch lent to the call: once it returned they read nothing.
pub(crate) fn slots(len: usize) -> Vec<Resource<Slot>> {
    (0..len as u32).map(Resource::new_own).collect()
}

impl CallState {
    fn statement(&self, slot: &Resource<Slot>) -> Option<&Value> {
        self.batch.get(slot.rep() as usize)
    }
}

impl Host for CallState {}

/// A value as JSON text, written into a buffer sized for a typical actor or object (grown
/// from empty, the text of an actor took six reallocations).
pub(crate) fn json_text(value: &Value) -> String {
    let mut text = Vec::with_capacity(256);
    if serde_json::to_writer(&mut text, value).is_ok() {
        if let Ok(text) = String::from_utf8(text) {
            return text;
        }
    }
    value.to_string()
}

impl HostStatement for CallState {
    fn get(&mut self, slot: Resource<Slot>, pointer: String) -> Option<String> {
        self.statement(&slot)?.pointer(&pointer).map(json_text)
    }

    fn get_string(&mut self, slot: Resource<Slot>, pointer: String) -> Option<String> {
        self.statement(&slot)?
            .pointer(&pointer)?
            .as_str()
            .map(str::to_string)
    }

    fn drop(&mut self, _slot: Resource<Slot>) -> wasmtime::Result<()> {
        // A handle is a position in the lent batch: nothing to free.
        Ok(())
    }
}

/// Applies an RFC 7396 merge patch to `target`.
pub fn merge_patch(target: &mut Value, patch: Value) {
    let Value::Object(patch) = patch else {
        *target = patch;
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Value::Object(members) = target {
        for (key, value) in patch {
            if value.is_null() {
                members.remove(&key);
            } else {
                merge_patch(members.entry(key).or_insert(Value::Null), value);
            }
        }
    }
}

/// Applies a transformer's changes to the batch: one per statement; a changed statement must
/// still be valid xAPI (waiving `waived[i]` for statement `i`) with its id unchanged. Returns
/// whether anything changed, or what is wrong with the answer.
pub(crate) fn apply(
    batch: &mut [Value],
    changes: Vec<Change>,
    version: XapiVersion,
    waived: &[Vec<Rule>],
) -> Result<bool, String> {
    if changes.len() != batch.len() {
        return Err(format!(
            "answered {} changes for {} statements (one per statement)",
            changes.len(),
            batch.len()
        ));
    }
    let mut changed = false;
    for (i, (statement, change)) in batch.iter_mut().zip(changes).enumerate() {
        let id = statement.get("id").cloned();
        let rules = waived.get(i).map(Vec::as_slice).unwrap_or_default();
        let checked = match change {
            Change::Unchanged => continue,
            Change::Patch(text) => {
                let patch: Value = serde_json::from_str(&text)
                    .map_err(|e| format!("the patch of statement {i} is not JSON: {e}"))?;
                // Only the properties the patch touches are checked again, where they can be
                // checked alone.
                let touched: Option<Vec<String>> = patch
                    .as_object()
                    .map(|members| members.keys().cloned().collect());
                merge_patch(statement, patch);
                match touched {
                    Some(keys) => validate_changed(statement, version, rules, &keys),
                    None => validate_waiving(statement, version, rules),
                }
            }
            Change::Replace(text) => {
                *statement = serde_json::from_str(&text)
                    .map_err(|e| format!("the replacement of statement {i} is not JSON: {e}"))?;
                validate_waiving(statement, version, rules)
            }
        };
        changed = true;
        checked.map_err(|e| {
            format!("statement {i} is not a valid xAPI statement once changed: {e}")
        })?;
        if statement.get("id") != id.as_ref() {
            return Err(format!(
                "its change of statement {i} changed the statement id"
            ));
        }
    }
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_merge_patch_sets_merges_and_removes_members_as_rfc_7396_says() {
        // RFC 7396, appendix A's example.
        let mut target = json!({"title": "Goodbye!", "author": {"givenName": "John",
            "familyName": "Doe"}, "tags": ["example", "sample"], "content": "This will be unchanged"});
        merge_patch(
            &mut target,
            json!({"title": "Hello!", "phoneNumber": "+01-123-456-7890",
                "author": {"familyName": null}, "tags": ["example"]}),
        );
        assert_eq!(
            target,
            json!({"title": "Hello!", "author": {"givenName": "John"}, "tags": ["example"],
                "content": "This will be unchanged", "phoneNumber": "+01-123-456-7890"})
        );
    }

    #[test]
    fn a_merge_patch_that_is_not_an_object_replaces_the_target() {
        let mut target = json!({"a": "b"});
        merge_patch(&mut target, json!(["c"]));
        assert_eq!(target, json!(["c"]));
    }

    fn statement() -> Value {
        json!({"id": "6690e6c9-3ef0-4ed3-8b37-7f3964730bee",
            "actor": {"mbox": "mailto:a@example.org"},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/passed"},
            "object": {"id": "http://example.org/course"}})
    }

    #[test]
    fn unchanged_statements_are_kept_as_they_are() {
        let mut batch = vec![statement()];
        let changed = apply(
            &mut batch,
            vec![Change::Unchanged],
            XapiVersion::V1_0_3,
            &[],
        );
        assert_eq!(changed, Ok(false));
        assert_eq!(batch, vec![statement()]);
    }

    #[test]
    fn a_patch_is_applied_and_the_result_validated() {
        let mut batch = vec![statement()];
        let patch = r#"{"actor": {"mbox": null, "account": {"homePage": "https://x.example", "name": "p"}}}"#;
        let changed = apply(
            &mut batch,
            vec![Change::Patch(patch.into())],
            XapiVersion::V1_0_3,
            &[],
        );
        assert_eq!(changed, Ok(true));
        assert_eq!(
            batch[0]["actor"],
            json!({"account": {"homePage": "https://x.example", "name": "p"}})
        );
        let bad = r#"{"actor": {"mbox": "not an IRI"}}"#;
        let err = apply(
            &mut batch,
            vec![Change::Patch(bad.into())],
            XapiVersion::V1_0_3,
            &[],
        );
        assert!(err.is_err_and(|e| e.contains("not a valid xAPI statement")));
    }

    #[test]
    fn a_change_may_not_change_the_id_nor_the_count() {
        let mut batch = vec![statement()];
        let patch = r#"{"id": "00000000-0000-4000-8000-000000000000"}"#;
        let err = apply(
            &mut batch,
            vec![Change::Patch(patch.into())],
            XapiVersion::V1_0_3,
            &[],
        );
        assert!(err.is_err_and(|e| e.contains("changed the statement id")));
        let err = apply(&mut batch, vec![], XapiVersion::V1_0_3, &[]);
        assert!(err.is_err_and(|e| e.contains("answered 0 changes for 1")));
    }
}
