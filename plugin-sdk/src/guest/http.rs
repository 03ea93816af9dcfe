//! Outgoing HTTP for plugins whose manifest grants hosts (`[capabilities] http`), over WASI
//! HTTP: a request to a host not granted is refused by the server and comes back as an error.

use std::io::Read;

use wasip2::http::outgoing_handler;
use wasip2::http::types::{Fields, Method, OutgoingBody, OutgoingRequest, Scheme};

/// What a server answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The HTTP status.
    pub status: u16,
    /// The body, as text (lossy).
    pub body: String,
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

/// POSTs `body` to `url` with `headers` (a `content-length` is added) and waits for the
/// answer; errs when the request could not be made or got no response.
pub fn post(url: &str, headers: &[(&str, &[u8])], body: &[u8]) -> Result<Response, String> {
    let (scheme, authority, path) = split(url)?;
    let mut list: Vec<(String, Vec<u8>)> = headers
        .iter()
        .map(|(name, value)| (name.to_ascii_lowercase(), value.to_vec()))
        .collect();
    list.push(("content-length".into(), body.len().to_string().into_bytes()));
    let fields = Fields::from_list(&list).map_err(|e| format!("headers: {e:?}"))?;
    let request = OutgoingRequest::new(fields);
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
            stream
                .blocking_write_and_flush(chunk)
                .map_err(|e| format!("sending: {e:?}"))?;
        }
        drop(stream);
        OutgoingBody::finish(outgoing, None).map_err(|e| format!("sending: {e:?}"))
    })();
    pending.subscribe().block();
    let response = match pending.get() {
        Some(Ok(Ok(response))) => response,
        Some(Ok(Err(e))) => return Err(format!("request to {authority} failed: {e:?}")),
        _ => {
            return Err(sent
                .err()
                .unwrap_or_else(|| format!("request to {authority} gave no response")))
        }
    };
    let status = response.status();
    let incoming = response
        .consume()
        .map_err(|_| "no response body".to_string())?;
    let mut text = String::new();
    {
        let mut stream = incoming
            .stream()
            .map_err(|_| "no response stream".to_string())?;
        let _ = stream.read_to_string(&mut text);
    }
    Ok(Response { status, body: text })
}
