//! `remote-validator` — a validator that asks an HTTP policy service for its verdict: it POSTs
//! each batch as a JSON array to `url` (config); a 2xx response accepts the batch, any other
//! status rejects it with the response body as the message. It needs outbound HTTP granted
//! for the service's host (`[capabilities] http = ["host:port"]`); a request to any other host
//! is denied by the server.

wit_bindgen::generate!({ world: "validator", path: "../../plugin-sdk/wit/v0.1" });

use xlrs::plugin::host::config;
use xlrs_plugin_sdk::guest::http;

struct RemoteValidator;

fn reject(message: String) -> Vec<Error> {
    vec![Error {
        message,
        statement_index: None,
    }]
}

impl Guest for RemoteValidator {
    fn validate(statements: Vec<String>) -> Result<(), Vec<Error>> {
        let url = config("url").ok_or_else(|| reject("config `url` is not set".into()))?;
        let body = format!("[{}]", statements.join(","));
        match http::post(
            &url,
            &[("content-type", b"application/json")],
            body.as_bytes(),
        ) {
            Ok(r) if (200..300).contains(&r.status) => Ok(()),
            Ok(r) => Err(reject(format!(
                "the policy service said {}: {}",
                r.status,
                r.body.trim()
            ))),
            Err(e) => Err(reject(e)),
        }
    }
}

export!(RemoteValidator);
