//! The LDP backend: OVH Logs Data Platform. As Ralph's `ldp` backend, it reads a stream's
//! cold-storage archives through the OVH API (`GET /dbaas/logs/{service}/output/graylog/stream/
//! {stream}/archive`, the details of each, `POST …/archive/{id}/url` for a temporary download
//! URL); it also writes, as LDP ingests logs: GELF messages over TCP (TLS by default), each
//! ended by a NUL byte and carrying the stream's `_X-OVH-TOKEN`.
//!
//! A written statement travels in the GELF field `_X-OVH-TO-FREEZE`, the field LDP can archive
//! on its own: a stream archiving that field gives back one statement per line, and a stream
//! archiving whole GELF messages gives messages holding it. Reading accepts both (gzipped or
//! not). OVH API requests are signed with `OVH_APPLICATION_KEY`, `OVH_APPLICATION_SECRET` and
//! `OVH_CONSUMER_KEY`, on `--auth-url`/`OVH_ENDPOINT` (`ovh-eu` by default, or a URL).

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use reqwest::blocking::Client;
use serde_json::{json, Value};
use sha1::{Digest, Sha1};

use super::lines::{decoded, Checked};
use super::progress::{LineCopy, Progress};
use super::{flag_or_env, success, Access, Backend, ReadFrom, WriteTo, Written};

/// The GELF field that carries a statement.
pub const STATEMENT_FIELD: &str = "_X-OVH-TO-FREEZE";
/// Time allowed for an OVH API request.
const API_TIMEOUT: Duration = Duration::from_secs(60);

/// A stream of an LDP service, and how to reach the OVH API and the GELF input.
pub struct Ldp {
    service: String,
    stream: String,
    access: Access,
}

/// An archive of the stream, as the OVH API describes it.
struct Archive {
    id: String,
    details: Value,
}

impl Ldp {
    /// Opens `ldp://SERVICE/STREAM_ID`; the API keys are looked up when the API is used.
    pub fn open(access: &Access) -> anyhow::Result<Self> {
        let url = access
            .url
            .as_deref()
            .ok_or_else(|| anyhow!("--backend ldp needs --url ldp://SERVICE/STREAM_ID"))?;
        let (service, stream) = url
            .strip_prefix("ldp://")
            .and_then(|rest| rest.trim_end_matches('/').split_once('/'))
            .filter(|(service, stream)| !service.is_empty() && !stream.is_empty())
            .ok_or_else(|| anyhow!("--url must be ldp://SERVICE/STREAM_ID, got {url}"))?;
        Ok(Self {
            service: service.to_string(),
            stream: stream.to_string(),
            access: access.clone(),
        })
    }

    fn archives_path(&self) -> String {
        format!(
            "/dbaas/logs/{}/output/graylog/stream/{}/archive",
            self.service, self.stream
        )
    }

    /// The stream's archives with their details, oldest first.
    fn archives(&self, api: &OvhApi) -> anyhow::Result<Vec<Archive>> {
        let ids: Vec<String> = serde_json::from_value(api.call("GET", &self.archives_path())?)
            .context("the OVH API's archive list is not a list of ids")?;
        let mut archives = ids
            .into_iter()
            .map(|id| {
                let details = api.call("GET", &format!("{}/{id}", self.archives_path()))?;
                Ok(Archive { id, details })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let key = |a: &Archive| {
            (
                a.details["createdAt"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                a.details["filename"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        };
        archives.sort_by_key(key);
        Ok(archives)
    }

    /// Writes the statements of one archive (`id`), or of every archive of the stream, to
    /// `out`, skipping the first `skip`. Archives are streamed from their download URL.
    pub fn read(&self, id: Option<&str>, skip: u64, out: &mut dyn Write) -> anyhow::Result<u64> {
        let api = OvhApi::new(&self.access)?;
        let ids = match id {
            Some(id) => vec![id.to_string()],
            None => self.archives(&api)?.into_iter().map(|a| a.id).collect(),
        };
        let mut copy = LineCopy::new(skip, "read");
        for id in ids {
            let path = format!("{}/{id}/url", self.archives_path());
            let link = api.call("POST", &path)?;
            let url = link["url"]
                .as_str()
                .ok_or_else(|| anyhow!("the OVH API gave no download URL for archive {id}"))?;
            let response = api
                .client
                .get(url)
                .send()
                .with_context(|| format!("downloading LDP archive {id}"))?;
            let response = success(response, "LDP", || format!("downloading archive {id}"))?;
            let mut input = BufReader::new(response);
            let gzipped = input.fill_buf()?.starts_with(&[0x1f, 0x8b]);
            let input = decoded(input, gzipped);
            for (number, line) in input.lines().enumerate() {
                let line = line.with_context(|| format!("reading LDP archive {id}"))?;
                let place = || format!("LDP archive {id}, line {}", number + 1);
                let statement = statement_of(&line).with_context(place)?;
                copy.line(&statement, out, place)?;
            }
        }
        Ok(copy.finish())
    }

    /// The stream's archives, one JSON object each (id, filename, bytes, created, state).
    pub fn list(&self, out: &mut dyn Write) -> anyhow::Result<()> {
        let api = OvhApi::new(&self.access)?;
        for a in self.archives(&api)? {
            let d = &a.details;
            let entry = json!({
                "id": a.id,
                "filename": d["filename"],
                "bytes": d["size"],
                "created": d["createdAt"],
                "state": d["retrievalState"],
            });
            writeln!(out, "{entry}")?;
        }
        Ok(())
    }

    /// Sends the JSON lines of `input` to the stream as GELF messages, at the input of
    /// `--endpoint`/`OVH_LDP_GELF` (`tls://HOST:PORT`, `tcp://HOST:PORT`; TLS without a scheme)
    /// with the token of `--token`/`OVH_LDP_TOKEN`. Every line is checked first: an invalid
    /// one sends nothing. Returns how many were sent.
    pub fn write(&self, input: &mut dyn BufRead) -> anyhow::Result<u64> {
        let input_url = flag_or_env(&self.access.endpoint, &["OVH_LDP_GELF"]).ok_or_else(|| {
            anyhow!("--backend ldp writes need the GELF input: --endpoint or OVH_LDP_GELF")
        })?;
        let token = flag_or_env(&self.access.token, &["OVH_LDP_TOKEN"]).ok_or_else(|| {
            anyhow!("--backend ldp writes need the stream's token: --token or OVH_LDP_TOKEN")
        })?;
        let mut checked = Checked::take(input)?;
        let mut connection = gelf_connection(&input_url)?;
        let progress = Progress::new("written");
        let mut sent = 0u64;
        {
            let mut out = std::io::BufWriter::new(&mut connection);
            for line in checked.lines()? {
                let message = gelf_message(&line?, &token)?;
                out.write_all(message.as_bytes())?;
                out.write_all(b"\0")?;
                sent += 1;
                progress.add(1);
            }
            out.flush()
                .with_context(|| format!("sending GELF to {input_url}"))?;
        }
        connection.close()?;
        progress.finish();
        Ok(sent)
    }
}

/// The GELF message carrying `statement` (a JSON text) for the stream of `token`.
pub fn gelf_message(statement: &str, token: &str) -> anyhow::Result<String> {
    let value: Value = serde_json::from_str(statement)?;
    let short = match value["id"].as_str() {
        Some(id) => format!("xAPI statement {id}"),
        None => "xAPI statement".to_string(),
    };
    let now = chrono::Utc::now();
    let timestamp = now.timestamp() as f64 + f64::from(now.timestamp_subsec_millis()) / 1000.0;
    let message = json!({
        "version": "1.1",
        "host": "xlrs",
        "short_message": short,
        "timestamp": timestamp,
        "level": 6,
        "_X-OVH-TOKEN": token,
        STATEMENT_FIELD: statement,
    });
    Ok(message.to_string())
}

/// The statement of an archive line: the line itself, or the `X-OVH-TO-FREEZE` field of a
/// GELF message (with or without GELF's leading `_`).
pub fn statement_of(line: &str) -> anyhow::Result<std::borrow::Cow<'_, str>> {
    if !line.contains("short_message") {
        return Ok(line.into());
    }
    let Ok(Value::Object(message)) = serde_json::from_str::<Value>(line) else {
        return Ok(line.into());
    };
    if !message.contains_key("short_message") {
        return Ok(line.into());
    }
    match message
        .get(STATEMENT_FIELD)
        .or_else(|| message.get(&STATEMENT_FIELD[1..]))
    {
        Some(Value::String(s)) => Ok(s.clone().into()),
        Some(v @ Value::Object(_)) => Ok(v.to_string().into()),
        _ => bail!("a GELF message without a {STATEMENT_FIELD} field holding a statement"),
    }
}

/// A connection to a GELF TCP input, plain or TLS.
enum GelfConnection {
    Plain(TcpStream),
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
}

impl GelfConnection {
    /// Ends the connection cleanly (TLS close_notify).
    fn close(self) -> anyhow::Result<()> {
        match self {
            Self::Plain(stream) => stream.shutdown(std::net::Shutdown::Write)?,
            Self::Tls(mut stream) => {
                stream.conn.send_close_notify();
                stream.flush()?;
            }
        }
        Ok(())
    }
}

impl Write for GelfConnection {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Self::Plain(s) => s.write(buf),
            Self::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Self::Plain(s) => s.flush(),
            Self::Tls(s) => s.flush(),
        }
    }
}

/// Connects to `tls://HOST:PORT`, `tcp://HOST:PORT` or `HOST:PORT` (TLS).
fn gelf_connection(url: &str) -> anyhow::Result<GelfConnection> {
    let (tls, address) = match url.split_once("://") {
        Some(("tls", address)) => (true, address),
        Some(("tcp", address)) => (false, address),
        Some((scheme, _)) => {
            bail!("the GELF input is tls://HOST:PORT or tcp://HOST:PORT, not {scheme}://")
        }
        None => (true, url),
    };
    let address = address.trim_end_matches('/');
    let stream = TcpStream::connect(address)
        .with_context(|| format!("connecting to the GELF input {address}"))?;
    stream.set_write_timeout(Some(Duration::from_secs(60)))?;
    if !tls {
        return Ok(GelfConnection::Plain(stream));
    }
    let host = address
        .rsplit_once(':')
        .map_or(address, |(host, _)| host)
        .to_string();
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    // The ring provider named, not the process default: nothing to install first.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from(host)
        .with_context(|| format!("{address} has no valid host name for TLS"))?;
    let connection = rustls::ClientConnection::new(Arc::new(config), name)?;
    Ok(GelfConnection::Tls(Box::new(rustls::StreamOwned::new(
        connection, stream,
    ))))
}

/// The OVH API, with signed requests.
struct OvhApi {
    base: String,
    application_key: String,
    application_secret: String,
    consumer_key: String,
    client: Client,
    /// The API server's clock minus ours, in seconds (signatures carry the server's time).
    time_delta: i64,
}

impl OvhApi {
    /// The API of `--auth-url`/`OVH_ENDPOINT` with the `OVH_*` keys; learns the server's time.
    fn new(access: &Access) -> anyhow::Result<Self> {
        let endpoint =
            flag_or_env(&access.auth_url, &["OVH_ENDPOINT"]).unwrap_or("ovh-eu".to_string());
        let base = match endpoint.as_str() {
            "ovh-eu" => "https://eu.api.ovh.com/1.0",
            "ovh-ca" => "https://ca.api.ovh.com/1.0",
            "ovh-us" => "https://api.us.ovhcloud.com/1.0",
            "kimsufi-eu" => "https://eu.api.kimsufi.com/1.0",
            "kimsufi-ca" => "https://ca.api.kimsufi.com/1.0",
            "soyoustart-eu" => "https://eu.api.soyoustart.com/1.0",
            "soyoustart-ca" => "https://ca.api.soyoustart.com/1.0",
            url if url.starts_with("http://") || url.starts_with("https://") => url,
            other => bail!("unknown OVH endpoint {other}: ovh-eu, ovh-ca, ovh-us, … or a URL"),
        }
        .trim_end_matches('/')
        .to_string();
        let key = |name: &str| {
            flag_or_env(&None, &[name])
                .ok_or_else(|| anyhow!("--backend ldp needs {name} to use the OVH API"))
        };
        let client = Client::builder()
            .connect_timeout(Duration::from_secs(30))
            .timeout(None)
            .build()?;
        let mut api = Self {
            application_key: key("OVH_APPLICATION_KEY")?,
            application_secret: key("OVH_APPLICATION_SECRET")?,
            consumer_key: key("OVH_CONSUMER_KEY")?,
            base,
            client,
            time_delta: 0,
        };
        let url = format!("{}/auth/time", api.base);
        let response = api
            .client
            .get(&url)
            .timeout(API_TIMEOUT)
            .send()
            .with_context(|| format!("reaching the OVH API at {url}"))?;
        let server: i64 = success(response, "LDP", || "reading the OVH API's time".into())?
            .json()
            .context("the OVH API's time is not a number")?;
        api.time_delta = server - chrono::Utc::now().timestamp();
        Ok(api)
    }

    /// A signed request to `path` (under the API's base); its JSON answer.
    fn call(&self, method: &str, path: &str) -> anyhow::Result<Value> {
        let url = format!("{}{path}", self.base);
        // The OVH clients send an empty JSON object with a POST without parameters.
        let body = if method == "GET" { "" } else { "{}" };
        let timestamp = (chrono::Utc::now().timestamp() + self.time_delta).to_string();
        let signature = signature(
            &self.application_secret,
            &self.consumer_key,
            method,
            &url,
            body,
            &timestamp,
        );
        let method = reqwest::Method::from_bytes(method.as_bytes())?;
        let mut request = self
            .client
            .request(method.clone(), &url)
            .timeout(API_TIMEOUT)
            .header("X-Ovh-Application", &self.application_key)
            .header("X-Ovh-Consumer", &self.consumer_key)
            .header("X-Ovh-Timestamp", &timestamp)
            .header("X-Ovh-Signature", signature);
        if !body.is_empty() {
            request = request
                .header("Content-Type", "application/json")
                .body(body);
        }
        let response = request
            .send()
            .with_context(|| format!("calling the OVH API: {method} {url}"))?;
        let response = success(response, "LDP", || format!("{method} {url}"))?;
        response
            .json()
            .with_context(|| format!("reading the OVH API's answer to {method} {url}"))
    }
}

/// The `X-Ovh-Signature` of a request: `$1$` and the SHA-1 (hex) of
/// `secret+consumer+METHOD+url+body+timestamp`.
pub fn signature(
    secret: &str,
    consumer: &str,
    method: &str,
    url: &str,
    body: &str,
    timestamp: &str,
) -> String {
    let text = format!("{secret}+{consumer}+{method}+{url}+{body}+{timestamp}");
    format!("$1${}", hex::encode(Sha1::digest(text.as_bytes())))
}

impl Backend for Ldp {
    fn read(&self, from: &ReadFrom, out: &mut dyn Write) -> anyhow::Result<u64> {
        Ldp::read(self, from.object.as_deref(), from.skip, out)
    }

    /// Statements are sent, not stored: the stream keeps them.
    fn write(&self, _: &WriteTo, input: &mut dyn BufRead) -> anyhow::Result<Written> {
        Ok(Written {
            count: Ldp::write(self, input)?,
            place: "sent to the LDP stream".into(),
        })
    }

    fn list(&self, out: &mut dyn Write) -> anyhow::Result<()> {
        Ldp::list(self, out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_statement_sent_as_gelf_comes_back_from_either_archive_format() {
        let statement = r#"{"id":"6fbd600f-d17c-4c74-801a-2ec2e53231c9","verb":{"id":"v"}}"#;
        let message = gelf_message(statement, "token-1").unwrap();
        let gelf: Value = serde_json::from_str(&message).unwrap();
        assert_eq!(gelf["_X-OVH-TOKEN"], "token-1");
        assert_eq!(gelf["version"], "1.1");
        assert!(gelf["short_message"].as_str().unwrap().contains("6fbd600f"));
        assert_eq!(statement_of(&message).unwrap(), statement);
        // Graylog without the leading underscore, and a line that is the field's value alone.
        let stored = json!({ "short_message": "x", "X-OVH-TO-FREEZE": statement }).to_string();
        assert_eq!(statement_of(&stored).unwrap(), statement);
        assert_eq!(statement_of(statement).unwrap(), statement);
        let bare = json!({ "short_message": "no statement" }).to_string();
        assert!(statement_of(&bare).is_err());
    }

    #[test]
    fn requests_are_signed_as_the_ovh_api_documents() {
        let sig = signature(
            "AS",
            "CK",
            "GET",
            "https://eu.api.ovh.com/1.0/me",
            "",
            "1366560945",
        );
        // sha1_hex("AS+CK+GET+https://eu.api.ovh.com/1.0/me++1366560945"), by Python's hashlib.
        assert_eq!(sig, "$1$302a5fe8c63712cdc1af50a6ff18f5b370d7b4c1");
    }
}
