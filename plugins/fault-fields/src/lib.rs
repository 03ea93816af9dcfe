//! A v0.2 field transformer that answers what its config `mode` says, for the tests of what
//! the host does with each answer: `patch` (sets `result.response` to the statement's verb,
//! read by pointer), `replace` (the whole statement with `result.response` = "replaced"),
//! `unchanged`, `break` (a patch removing the actor), `change-id`, `not-object`,
//! `wrong-count`, `reject` (every statement), `reject-none` (a refusal naming no statement),
//! `trap`, `count` (sets `result.response` to how many calls this instance has served, and
//! traps on a statement whose object id ends in `/trap`), `spin` (computes for `spins`
//! rounds, default 100 million, then answers `unchanged`), `spin-on` (the same for a batch
//! holding a statement whose object id ends in `/spin`; any other answered `unchanged` at once).

use serde_json::json;
use xlrs_plugin_sdk::{
    config, export_field_transformer, Change, FieldTransformer, Fields, Rejection,
};

struct Fault(String, u64);

impl FieldTransformer for Fault {
    fn new() -> Self {
        Fault(config("mode").unwrap_or_default(), 0)
    }

    fn change_batch(&mut self, statements: &[Fields]) -> Result<Vec<Change>, Vec<Rejection>> {
        self.1 += 1;
        let calls = self.1.to_string();
        let each = |change: &dyn Fn(&Fields) -> Change| statements.iter().map(change).collect();
        match self.0.as_str() {
            "count" => Ok(each(&|s| {
                if s.string("/object/id")
                    .is_some_and(|id| id.ends_with("/trap"))
                {
                    panic!("asked to trap");
                }
                Change::Patch(json!({"result": {"response": calls}}))
            })),
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
            "reject-none" => Err(Vec::new()),
            "trap" => panic!("deliberate trap"),
            "spin-on"
                if !statements.iter().any(|s| {
                    s.string("/object/id")
                        .is_some_and(|id| id.ends_with("/spin"))
                }) =>
            {
                Ok(each(&|_| Change::Unchanged))
            }
            "spin" | "spin-on" => {
                let spins: u64 = config("spins")
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(100_000_000);
                let mut x = 1u64;
                for i in 0..spins {
                    x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
                }
                Ok(each(&|_| Change::Unchanged))
            }
            _ => Ok(each(&|_| Change::Unchanged)),
        }
    }
}

export_field_transformer!(Fault);
