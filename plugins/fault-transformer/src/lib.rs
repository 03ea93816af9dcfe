//! A transformer that misbehaves on purpose, for the sandbox tests. Config `mode`:
//! `not-json`, `wrong-count`, `invalid-statement`, `change-id`, `trap`, or anything else to
//! pass statements through unchanged.

wit_bindgen::generate!({ world: "transformer", path: "../../plugin-sdk/wit/v0.1" });

use xlrs::plugin::host::config;


struct Fault;

impl Guest for Fault {
    fn transform(statements: Vec<String>) -> Result<Vec<String>, Error> {
        match config("mode").as_deref() {
            Some("not-json") => Ok(statements.iter().map(|_| "{not json".to_string()).collect()),
            Some("wrong-count") => Ok(statements.into_iter().skip(1).collect()),
            Some("invalid-statement") => Ok(statements.iter().map(|_| "{\"verb\":{}}".to_string()).collect()),
            Some("change-id") => Ok(statements
                .iter()
                .map(|s| {
                    let mut v: serde_json::Value = serde_json::from_str(s).unwrap_or_default();
                    v["id"] = serde_json::Value::String("00000000-0000-4000-8000-000000000000".into());
                    v.to_string()
                })
                .collect()),
            Some("trap") => panic!("deliberate trap"),
            _ => Ok(statements),
        }
    }
}

export!(Fault);
