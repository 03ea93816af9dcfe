//! Signed statements (xAPI Data 2.6): a JWS in compact serialization, sent as the attachment
//! whose usageType is [`SIGNATURE_USAGE`], whose payload is the statement as it was before the
//! signature was added. When the JWS header carries a certificate (`x5c`), the signature must
//! verify with its RSA key.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use serde_json::Value;

use super::canonical::same_property;

/// The attachment usageType that marks a statement signature.
pub const SIGNATURE_USAGE: &str = "http://adlnet.gov/expapi/attachments/signature";

/// The content type a signature attachment must have.
pub const SIGNATURE_CONTENT_TYPE: &str = "application/octet-stream";

/// The algorithms the specification allows.
const ALGORITHMS: [&str; 3] = ["RS256", "RS384", "RS512"];

/// Statement properties the signer sets and the LRS compares with the payload; the LRS adds
/// `id`, `authority`, `stored`, `timestamp` and `version`, and the signature attachment
/// itself comes after signing, so those are compared only when the payload has them.
const SIGNED_PROPERTIES: [&str; 5] = ["actor", "verb", "object", "result", "context"];

/// The sha2 of every signature attachment of a statement.
pub fn signature_hashes(statement: &Value) -> Vec<String> {
    statement
        .get("attachments")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|a| a.get("usageType").and_then(Value::as_str) == Some(SIGNATURE_USAGE))
        .filter_map(|a| a.get("sha2").and_then(Value::as_str))
        .map(str::to_ascii_lowercase)
        .collect()
}

/// Checks a signature attachment's content against the statement it signs; the error says
/// which rule it breaks.
pub fn check(statement: &Value, jws: &[u8]) -> Result<(), String> {
    let text = std::str::from_utf8(jws).map_err(|_| "the signature is not a JWS (not UTF-8)")?;
    let parts: Vec<&str> = text.trim().split('.').collect();
    let [header, payload, signature] = parts.as_slice() else {
        return Err("the signature is not a JWS in compact serialization (three parts)".into());
    };
    let protected: Value = decode_json(header).map_err(|e| format!("the JWS header {e}"))?;
    let alg = protected.get("alg").and_then(Value::as_str).unwrap_or("");
    if !ALGORITHMS.contains(&alg) {
        return Err(format!(
            "the JWS algorithm `{alg}` is not one of RS256, RS384, RS512"
        ));
    }
    let signature_bytes = match URL_SAFE_NO_PAD.decode(signature) {
        Ok(bytes) if !bytes.is_empty() => bytes,
        _ => return Err("the JWS signature part is not base64url".into()),
    };
    if let Some(x5c) = protected.get("x5c") {
        let signing_input = format!("{header}.{payload}");
        verify_with_certificate(x5c, alg, signing_input.as_bytes(), &signature_bytes)?;
    }
    let payload: Value = decode_json(payload).map_err(|e| format!("the JWS payload {e}"))?;
    if !payload.is_object() {
        return Err("the JWS payload must be the statement as a JSON object".into());
    }
    // "Validate that the original Statement is logically equivalent to the received Statement
    // … differences which could have been caused by allowed or required transformations MUST
    // be ignored" (Data 2.6): the statement comparison rules of the content hash.
    for key in SIGNED_PROPERTIES {
        if !same_property(key, payload.get(key), statement.get(key)) {
            return Err(format!(
                "the JWS payload's `{key}` differs from the statement's: the payload must be the signed statement"
            ));
        }
    }
    if let Some(signed) = payload.get("id") {
        let uuid = |v: Option<&Value>| v.and_then(Value::as_str).map(uuid::Uuid::parse_str);
        if uuid(Some(signed)) != uuid(statement.get("id")) {
            return Err("the JWS payload's `id` differs from the statement's".into());
        }
    }
    if payload.get("timestamp").is_some()
        && !same_property(
            "timestamp",
            payload.get("timestamp"),
            statement.get("timestamp"),
        )
    {
        return Err("the JWS payload's `timestamp` differs from the statement's".into());
    }
    Ok(())
}

/// Verifies the signature with the public key of the first certificate of `x5c` (JWS §4.1.6:
/// base64 DER, the signer's certificate first).
fn verify_with_certificate(
    x5c: &Value,
    alg: &str,
    signing_input: &[u8],
    signature: &[u8],
) -> Result<(), String> {
    use rsa::pkcs8::DecodePublicKey;
    use rsa::{Pkcs1v15Sign, RsaPublicKey};
    use sha2::{Digest, Sha256, Sha384, Sha512};
    use x509_cert::der::{Decode, Encode};

    let first = x5c
        .as_array()
        .and_then(|chain| chain.first())
        .and_then(Value::as_str)
        .ok_or("the JWS header's x5c must be an array of base64 certificates")?;
    let der = STANDARD
        .decode(first)
        .map_err(|_| "the x5c certificate is not base64")?;
    let certificate = x509_cert::Certificate::from_der(&der)
        .map_err(|e| format!("the x5c certificate is not an X.509 certificate: {e}"))?;
    let spki = certificate
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .map_err(|e| format!("the x5c certificate's key cannot be read: {e}"))?;
    let key = RsaPublicKey::from_public_key_der(&spki)
        .map_err(|_| "the x5c certificate does not hold an RSA public key")?;
    let verified = match alg {
        "RS256" => key.verify(
            Pkcs1v15Sign::new::<Sha256>(),
            &Sha256::digest(signing_input),
            signature,
        ),
        "RS384" => key.verify(
            Pkcs1v15Sign::new::<Sha384>(),
            &Sha384::digest(signing_input),
            signature,
        ),
        _ => key.verify(
            Pkcs1v15Sign::new::<Sha512>(),
            &Sha512::digest(signing_input),
            signature,
        ),
    };
    verified.map_err(|_| "the JWS signature does not verify with the x5c certificate".into())
}

fn decode_json(part: &str) -> Result<Value, String> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part.trim_end_matches('='))
        .map_err(|_| "is not base64url".to_string())?;
    serde_json::from_slice(&bytes).map_err(|e| format!("is not JSON: {e}"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn jws(header: &Value, payload: &str) -> Vec<u8> {
        format!(
            "{}.{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(payload),
            URL_SAFE_NO_PAD.encode([1u8, 2, 3])
        )
        .into_bytes()
    }

    fn statement() -> Value {
        json!({"actor": {"mbox": "mailto:a@example.org"}, "verb": {"id": "http://v"},
               "object": {"id": "http://a"}})
    }

    #[test]
    fn a_jws_over_the_statement_with_an_rs_algorithm_passes() {
        let s = statement();
        for alg in ALGORITHMS {
            check(&s, &jws(&json!({"alg": alg}), &s.to_string())).unwrap();
        }
    }

    #[test]
    fn the_algorithm_must_be_rs256_rs384_or_rs512() {
        let s = statement();
        let e = check(&s, &jws(&json!({"alg": "HS256"}), &s.to_string())).unwrap_err();
        assert!(e.contains("HS256"), "{e}");
    }

    #[test]
    fn the_payload_must_be_the_statement_as_json() {
        let s = statement();
        let broken = s.to_string().replacen('"', "'", 1);
        assert!(check(&s, &jws(&json!({"alg": "RS256"}), &broken)).is_err());
        let mut other = statement();
        other["verb"]["id"] = json!("http://other");
        assert!(check(&s, &jws(&json!({"alg": "RS256"}), &other.to_string())).is_err());
    }

    #[test]
    fn durations_beyond_hundredths_do_not_count() {
        let mut s = statement();
        s["result"] = json!({"duration": "PT1.23S"});
        let mut signed = s.clone();
        signed["result"]["duration"] = json!("PT1.2371S");
        check(&s, &jws(&json!({"alg": "RS256"}), &signed.to_string())).unwrap();
    }

    #[test]
    fn a_signed_timestamp_matches_the_same_instant_in_another_time_zone() {
        let mut s = statement();
        s["timestamp"] = json!("2023-05-04T17:00:00.000Z");
        let mut signed = s.clone();
        signed["timestamp"] = json!("2023-05-04T12:00:00-05:00");
        check(&s, &jws(&json!({"alg": "RS256"}), &signed.to_string())).unwrap();
        signed["timestamp"] = json!("2023-05-04T12:00:00Z");
        assert!(check(&s, &jws(&json!({"alg": "RS256"}), &signed.to_string())).is_err());
    }

    #[test]
    fn a_payload_that_differs_only_where_statements_may_differ_is_the_statement() {
        // Data 2.6: differences allowed or required transformations could cause are ignored.
        let mut s = statement();
        s["verb"]["display"] = json!({"en-US": "did"});
        s["object"]["definition"] = json!({"name": {"en-US": "A"}});
        let mut signed = statement();
        signed["verb"]["display"] = json!({"fr-FR": "a fait"});
        check(&s, &jws(&json!({"alg": "RS256"}), &signed.to_string())).unwrap();
        signed["object"]["id"] = json!("http://b");
        assert!(check(&s, &jws(&json!({"alg": "RS256"}), &signed.to_string())).is_err());
    }

    #[test]
    fn a_signature_that_is_not_compact_jws_is_refused() {
        assert!(check(&statement(), b"not a jws").is_err());
    }
}
