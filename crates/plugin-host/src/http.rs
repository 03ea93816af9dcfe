//! Outbound HTTP for plugins granted it: `wasi:http` is linked only for a plugin whose manifest
//! lists hosts (`[capabilities] http`), every request is checked against that list, and its
//! timeouts are bounded by the plugin's call limit (a host call cannot be interrupted).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpHooks};

use crate::manifest::http_allows;

/// A response future as `wasi:http` hooks return it.
type Sent = Box<
    dyn Future<
            Output = Result<
                (
                    http::Response<WasiBody>,
                    Box<dyn Future<Output = Result<(), Error>> + Send>,
                ),
                Error,
            >,
        > + Send,
>;

/// The hosts one plugin may reach and how long a request may take.
#[derive(Clone)]
pub struct HttpGrant {
    allowed: Arc<[String]>,
    timeout: Duration,
}

impl HttpGrant {
    /// A grant of `allowed` hosts, each request bounded by `timeout`.
    pub fn new(allowed: Arc<[String]>, timeout: Duration) -> Self {
        Self { allowed, timeout }
    }

    /// Whether a request to this URI may leave.
    pub fn allows(&self, uri: &http::Uri) -> bool {
        let Some(host) = uri.host() else {
            return false;
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let port = uri
            .port_u16()
            .unwrap_or(if uri.scheme() == Some(&http::uri::Scheme::HTTPS) {
                443
            } else {
                80
            });
        self.allowed
            .iter()
            .any(|entry| http_allows(entry, host, port))
    }
}

fn bounded(limit: Duration, asked: Option<Duration>) -> Option<Duration> {
    Some(asked.map_or(limit, |a| a.min(limit)))
}

impl WasiHttpHooks for HttpGrant {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        fut: Box<dyn Future<Output = Result<(), Error>> + Send>,
    ) -> Sent {
        drop(fut);
        if !self.allows(request.uri()) {
            tracing::warn!(uri = %request.uri(), "plugin HTTP request denied: host not granted");
            return Box::new(async { Err(Error::HttpRequestDenied) });
        }
        let asked = options.unwrap_or_default();
        let options = RequestOptions {
            connect_timeout: bounded(self.timeout, asked.connect_timeout),
            first_byte_timeout: bounded(self.timeout, asked.first_byte_timeout),
            between_bytes_timeout: bounded(self.timeout, asked.between_bytes_timeout),
        };
        Box::new(async move {
            use http_body_util::BodyExt;
            let (response, io) =
                wasmtime_wasi_http::default_send_request(request, Some(options)).await?;
            Ok((
                response.map(BodyExt::boxed_unsync),
                Box::new(io) as Box<dyn Future<Output = Result<(), Error>> + Send>,
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_granted_hosts_and_ports_are_reachable() {
        let grant = HttpGrant::new(
            vec!["127.0.0.1:9000".to_string(), "api.example.org".to_string()].into(),
            Duration::from_secs(1),
        );
        let ok = |u: &str| grant.allows(&u.parse().unwrap());
        assert!(ok("http://127.0.0.1:9000/x"));
        assert!(!ok("http://127.0.0.1:9001/x"));
        assert!(!ok("http://localhost:9000/x"));
        assert!(ok("https://api.example.org/v1"));
        assert!(!ok("https://example.org/"));
    }
}
