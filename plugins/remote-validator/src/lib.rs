//! `remote-validator` — a validator that asks an HTTP policy service for its verdict: it POSTs
//! each batch as a JSON array to `url` (config); a 2xx response accepts the batch, any other
//! status rejects it with the response body as the message. It needs outbound HTTP granted
//! for the service's host (`[capabilities] http = ["host:port"]`); a request to any other host
//! is denied by the server.

wit_bindgen::generate!({ world: "validator", path: "../../plugin-sdk/wit/v0.1" });

use std::io::Read;

use wasip2::http::outgoing_handler;
use wasip2::http::types::{Fields, Method, OutgoingBody, OutgoingRequest, Scheme};
use xlrs::plugin::host::config;

struct RemoteValidator;

fn reject(message: String) -> Vec<Error> {
    vec![Error { message, statement_index: None }]
}

/// Splits `http://host:port/path` into scheme, authority and path.
fn split(url: &str) -> Result<(Scheme, &str, &str), String> {
    let (scheme, rest) = if let Some(rest) = url.strip_prefix("http://") {
        (Scheme::Http, rest)
    } else if let Some(rest) = url.strip_prefix("https://") {
        (Scheme::Https, rest)
    } else {
        return Err(format!("url `{url}` must start with http:// or https://"));
    };
    let (authority, path) = rest.find('/').map_or((rest, "/"), |i| rest.split_at(i));
    Ok((scheme, authority, path))
}

/// POSTs `body` and returns the status and the response body.
fn post(url: &str, body: &[u8]) -> Result<(u16, String), String> {
    let (scheme, authority, path) = split(url)?;
    let headers = Fields::from_list(&[
        ("content-type".to_string(), b"application/json".to_vec()),
        ("content-length".to_string(), body.len().to_string().into_bytes()),
    ])
        .map_err(|e| format!("headers: {e:?}"))?;
    let request = OutgoingRequest::new(headers);
    let set = request.set_method(&Method::Post).is_ok()
        && request.set_scheme(Some(&scheme)).is_ok()
        && request.set_authority(Some(authority)).is_ok()
        && request.set_path_with_query(Some(path)).is_ok();
    if !set {
        return Err(format!("url `{url}` is not a valid request target"));
    }
    let outgoing = request.body().map_err(|_| "no request body".to_string())?;
    let pending = outgoing_handler::handle(request, None)
        .map_err(|e| format!("request to {authority} refused: {e:?}"))?;
    // Send the body in chunks the host accepts; if sending fails, the response future says why
    // (e.g. the request was denied).
    let sent = (|| {
        let stream = outgoing.write().map_err(|_| "no body stream".to_string())?;
        for chunk in body.chunks(4096) {
            stream.blocking_write_and_flush(chunk).map_err(|e| format!("sending: {e:?}"))?;
        }
        drop(stream);
        OutgoingBody::finish(outgoing, None).map_err(|e| format!("sending: {e:?}"))
    })();
    pending.subscribe().block();
    let response = match pending.get() {
        Some(Ok(Ok(response))) => response,
        Some(Ok(Err(e))) => return Err(format!("request to {authority} failed: {e:?}")),
        _ => return Err(sent.err().unwrap_or_else(|| format!("request to {authority} gave no response"))),
    };
    let status = response.status();
    let incoming = response.consume().map_err(|_| "no response body".to_string())?;
    let mut text = String::new();
    {
        let mut stream = incoming.stream().map_err(|_| "no response stream".to_string())?;
        let _ = stream.read_to_string(&mut text);
    }
    Ok((status, text))
}

impl Guest for RemoteValidator {
    fn validate(statements: Vec<String>) -> Result<(), Vec<Error>> {
        let url = config("url").ok_or_else(|| reject("config `url` is not set".into()))?;
        let body = format!("[{}]", statements.join(","));
        match post(&url, body.as_bytes()) {
            Ok((status, _)) if (200..300).contains(&status) => Ok(()),
            Ok((status, text)) => Err(reject(format!("the policy service said {status}: {}", text.trim()))),
            Err(e) => Err(reject(e)),
        }
    }
}

export!(RemoteValidator);
