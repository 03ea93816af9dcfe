//! `webhook` — a reactor (plugin contract v0.2) that POSTs stored statements to a URL: the
//! statements of each batch whose verb is in `verbs` (all when unset), as one JSON array, with
//! an HMAC-SHA256 signature of the body in `X-Xlrs-Signature: sha256=<hex>` when `secret` is
//! set. A 2xx answer settles the batch; 400, 409, 413 and 422 refuse it (the host sets the
//! statements aside one by one, as forwarding does); anything else, or no answer, is retried
//! with backoff. Delivery is at least once, in the order the LRS stored the statements: a
//! receiver dedupes by statement `id`.
//!
//! Config: `url` (required), `verbs` (verb IRIs separated by commas or whitespace), `secret`.
//! The manifest grants the receiver's host (`[capabilities] http = ["host:port"]`).

use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

/// The signature header, and what its value starts with.
pub const SIGNATURE_HEADER: &str = "x-xlrs-signature";

/// `sha256=<hex>`: the HMAC-SHA256 of `body` under `secret`.
pub fn signature(secret: &str, body: &[u8]) -> String {
    // HMAC takes keys of any length: `new_from_slice` cannot fail for it.
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts any key length"),
    };
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Items of a config list separated by commas or whitespace.
pub fn split_list(text: &str) -> Vec<String> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// The body to send: the statements whose verb is in `verbs` (every one when `verbs` is
/// empty), as a JSON array; None when none is.
pub fn body_of(statements: &[Value], verbs: &[String]) -> Option<String> {
    let chosen: Vec<&Value> = statements
        .iter()
        .filter(|s| {
            verbs.is_empty()
                || s["verb"]["id"]
                    .as_str()
                    .is_some_and(|v| verbs.iter().any(|w| w == v))
        })
        .collect();
    if chosen.is_empty() {
        return None;
    }
    serde_json::to_string(&chosen).ok()
}

/// What an answer's status means for the batch.
#[derive(Debug, PartialEq, Eq)]
pub enum Answer {
    /// Delivered.
    Delivered,
    /// The receiver will never take it.
    Refused,
    /// Try again later.
    Retry,
}

/// The meaning of an HTTP status from the receiver.
pub fn answer(status: u16) -> Answer {
    match status {
        200..=299 => Answer::Delivered,
        400 | 409 | 413 | 422 => Answer::Refused,
        _ => Answer::Retry,
    }
}

#[cfg(target_arch = "wasm32")]
mod plugin {
    use serde_json::Value;
    use xlrs_plugin_sdk::guest::http;
    use xlrs_plugin_sdk::{config, export_reactor, ReactionError, Reactor};

    use super::{answer, body_of, signature, split_list, Answer, SIGNATURE_HEADER};

    struct Webhook;

    impl Reactor for Webhook {
        fn new() -> Self {
            Webhook
        }

        fn react(&mut self, statements: &[Value]) -> Result<Vec<Value>, ReactionError> {
            let url = config("url")
                .ok_or_else(|| ReactionError::Retry("config `url` is not set".into()))?;
            let verbs = split_list(&config("verbs").unwrap_or_default());
            let Some(body) = body_of(statements, &verbs) else {
                return Ok(Vec::new());
            };
            let signed = config("secret").map(|secret| signature(&secret, body.as_bytes()));
            let mut headers: Vec<(&str, &[u8])> = vec![("content-type", b"application/json")];
            if let Some(sig) = &signed {
                headers.push((SIGNATURE_HEADER, sig.as_bytes()));
            }
            let response =
                http::post(&url, &headers, body.as_bytes()).map_err(ReactionError::Retry)?;
            let said = format!(
                "{url} answered {}: {}",
                response.status,
                response.body.trim()
            );
            match answer(response.status) {
                Answer::Delivered => Ok(Vec::new()),
                Answer::Refused => Err(ReactionError::Refuse(said)),
                Answer::Retry => Err(ReactionError::Retry(said)),
            }
        }
    }

    export_reactor!(Webhook);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hmac_sha256_of_the_body_in_hex() {
        // RFC 4231 test case 2.
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn only_statements_with_a_listed_verb_are_sent_unchanged() {
        let passed: Value = serde_json::from_str(
            r#"{"verb":{"id":"http://adlnet.gov/expapi/verbs/passed"},"id":"1"}"#,
        )
        .unwrap();
        let failed: Value = serde_json::from_str(
            r#"{"verb":{"id":"http://adlnet.gov/expapi/verbs/failed"},"id":"2"}"#,
        )
        .unwrap();
        let batch = vec![passed.clone(), failed.clone()];
        let verbs = split_list("http://adlnet.gov/expapi/verbs/passed");
        assert_eq!(body_of(&batch, &verbs), Some(format!("[{passed}]")));
        assert_eq!(body_of(&batch[1..], &verbs), None);
        assert_eq!(body_of(&batch, &[]), Some(format!("[{passed},{failed}]")));
    }

    #[test]
    fn a_4xx_the_receiver_cannot_take_refuses_and_the_rest_is_retried() {
        assert_eq!(answer(204), Answer::Delivered);
        assert_eq!(answer(400), Answer::Refused);
        assert_eq!(answer(422), Answer::Refused);
        assert_eq!(answer(401), Answer::Retry);
        assert_eq!(answer(503), Answer::Retry);
    }
}
