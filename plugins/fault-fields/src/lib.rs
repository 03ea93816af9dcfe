//! A v0.2 field transformer that answers what its config `mode` says, for the tests of what
//! the host does with each answer:
//! `patch` (sets `result.response` to the statement's verb, read by pointer), `replace`
//! (the whole statement with `result.response` = "replaced"), `unchanged`, `break` (a patch
//! removing the actor), `change-id`, `not-object`, `wrong-count`, `reject` (every statement),
//! `trap`.

use serde_json::json;
use xlrs_plugin_sdk::{config, export_field_transformer, Change, FieldTransformer, Fields, Rejection};

struct Fault(String);

impl FieldTransformer for Fault {
    fn new() -> Self {
        Fault(config("mode").unwrap_or_default())
    }

    fn change_batch(&mut self, statements: &[Fields]) -> Result<Vec<Change>, Vec<Rejection>> {
        let each = |change: &dyn Fn(&Fields) -> Change| statements.iter().map(change).collect();
        match self.0.as_str() {
            "patch" => Ok(each(&|s| {
                Change::Patch(json!({"result": {"response": s.string("/verb/id")}}))
            })),
            "replace" => Ok(each(&|s| {
                let mut whole = s.whole();
                whole["result"] = json!({"response": "replaced"});
                Change::Replace(whole)
            })),
            "break" => Ok(each(&|_| Change::Patch(json!({"actor": null})))),
            "change-id" => Ok(each(&|_| {
                Change::Patch(json!({"id": "00000000-0000-4000-8000-000000000000"}))
            })),
            "not-object" => Ok(each(&|_| Change::Replace(json!("not a statement")))),
            "wrong-count" => Ok(Vec::new()),
            "reject" => Err(statements
                .iter()
                .map(|s| Rejection::of(s.index(), "refused by fault-fields"))
                .collect()),
            "trap" => panic!("deliberate trap"),
            _ => Ok(each(&|_| Change::Unchanged)),
        }
    }
}

export_field_transformer!(Fault);
