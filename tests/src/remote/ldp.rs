//! A stand-in for OVH Logs Data Platform with the documented endpoints the toolbox uses: the
//! OVH API's `GET /1.0/auth/time`, `GET /1.0/dbaas/logs/{service}/output/graylog/stream/
//! {stream}/archive` (the archive ids), `GET …/archive/{id}` (its details) and
//! `POST …/archive/{id}/url` (a temporary download URL), every one but the time checking the
//! request's `X-Ovh-*` signature; the download itself; and a GELF TCP input (messages ended by
//! a NUL byte, `_X-OVH-TOKEN` checked) whose messages, once a connection closes, become one
//! gzipped archive of GELF lines, as LDP's cold storage keeps a stream.

use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use sha1::{Digest, Sha1};
use tokio::io::AsyncReadExt;

use super::Background;

/// The OVH API application key the server accepts.
pub const APPLICATION_KEY: &str = "ldp-app-key";
/// Its secret.
pub const APPLICATION_SECRET: &str = "ldp-app-secret";
/// The consumer key.
pub const CONSUMER_KEY: &str = "ldp-consumer-key";

/// One archive of the stream.
#[derive(Debug, Clone)]
pub struct Archive {
    /// Its id.
    pub id: String,
    /// Its file name.
    pub filename: String,
    /// When it was made.
    pub created_at: String,
    /// Its content.
    pub bytes: Vec<u8>,
}

#[derive(Default)]
struct Stream {
    archives: Vec<Archive>,
    /// GELF messages refused (wrong token, not JSON).
    refused: usize,
    /// GELF connections accepted.
    connections: usize,
}

type Shared = Arc<Mutex<Stream>>;

#[derive(Clone)]
struct Api {
    stream: Shared,
    addr: SocketAddr,
    service: String,
    stream_id: String,
}

/// A running stand-in.
pub struct LdpServer {
    api: SocketAddr,
    gelf: SocketAddr,
    stream: Shared,
    _background: Background,
}

impl LdpServer {
    /// Starts a server with one stream `stream_id` of `service`, whose GELF input takes
    /// `token`.
    pub fn start(service: &str, stream_id: &str, token: &str) -> LdpServer {
        let background = Background::new();
        let stream: Shared = Arc::default();
        let (listener, addr) = background.listener();
        let api = Api {
            stream: stream.clone(),
            addr,
            service: service.to_string(),
            stream_id: stream_id.to_string(),
        };
        let archive = "/1.0/dbaas/logs/{service}/output/graylog/stream/{stream}/archive";
        let app = Router::new()
            .route("/1.0/auth/time", get(|| async { Json(now()) }))
            .route(archive, get(archive_ids))
            .route(&format!("{archive}/{{id}}"), get(archive_details))
            .route(&format!("{archive}/{{id}}/url"), post(archive_url))
            .route("/download/{id}", get(download))
            .with_state(api);
        background.serve(listener, app);
        let (gelf_listener, gelf) = background.listener();
        background.spawn(gelf_input(gelf_listener, stream.clone(), token.to_string()));
        LdpServer {
            api: addr,
            gelf,
            stream,
            _background: background,
        }
    }

    /// The variables of the OVH API client for this server.
    pub fn settings(&self) -> Vec<(&'static str, String)> {
        vec![
            ("OVH_ENDPOINT", format!("http://{}/1.0", self.api)),
            ("OVH_APPLICATION_KEY", APPLICATION_KEY.into()),
            ("OVH_APPLICATION_SECRET", APPLICATION_SECRET.into()),
            ("OVH_CONSUMER_KEY", CONSUMER_KEY.into()),
        ]
    }

    /// `tcp://127.0.0.1:PORT` of the GELF input (plain TCP: no certificate here).
    pub fn gelf_input(&self) -> String {
        format!("tcp://{}", self.gelf)
    }

    /// Adds an archive holding `lines`, gzipped or not.
    pub fn add_archive(&self, filename: &str, lines: &[String], gzip: bool) -> String {
        let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        let bytes = if gzip {
            gzipped(text.as_bytes())
        } else {
            text.into_bytes()
        };
        let mut stream = self.stream.lock().expect("stream");
        let archive = new_archive(&stream, filename, bytes);
        let id = archive.id.clone();
        stream.archives.push(archive);
        id
    }

    /// The archives, in the order made.
    pub fn archives(&self) -> Vec<Archive> {
        self.stream.lock().expect("stream").archives.clone()
    }

    /// Waits (up to 10 s) until there are `n` archives; the archives then.
    pub fn wait_for_archives(&self, n: usize) -> Vec<Archive> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let archives = self.archives();
            if archives.len() >= n || Instant::now() > deadline {
                return archives;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// GELF messages refused so far.
    pub fn refused(&self) -> usize {
        self.stream.lock().expect("stream").refused
    }

    /// GELF connections accepted so far.
    pub fn connections(&self) -> usize {
        self.stream.lock().expect("stream").connections
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn gzipped(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).expect("gzip");
    encoder.finish().expect("gzip")
}

/// A new archive, created after the stream's others.
fn new_archive(stream: &Stream, filename: &str, bytes: Vec<u8>) -> Archive {
    let n = stream.archives.len() + 1;
    Archive {
        id: uuid::Uuid::new_v4().to_string(),
        filename: filename.to_string(),
        created_at: format!("2026-11-{n:02}T04:38:59.436634+02:00"),
        bytes,
    }
}

/// Accepts GELF connections: NUL-ended JSON messages with the stream's token; the messages of
/// a connection become one archive when it closes.
async fn gelf_input(listener: tokio::net::TcpListener, stream: Shared, token: String) {
    while let Ok((mut socket, _)) = listener.accept().await {
        let stream = stream.clone();
        let token = token.clone();
        tokio::spawn(async move {
            stream.lock().expect("stream").connections += 1;
            let mut received = Vec::new();
            if socket.read_to_end(&mut received).await.is_err() {
                return;
            }
            let mut lines = Vec::new();
            let mut refused = 0;
            for message in received.split(|b| *b == 0).filter(|m| !m.is_empty()) {
                match serde_json::from_slice::<Value>(message) {
                    Ok(gelf) if gelf["_X-OVH-TOKEN"] == token.as_str() => {
                        lines.push(gelf.to_string())
                    }
                    _ => refused += 1,
                }
            }
            let mut stream = stream.lock().expect("stream");
            stream.refused += refused;
            if !lines.is_empty() {
                let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
                let n = stream.archives.len() + 1;
                let archive = new_archive(
                    &stream,
                    &format!("2026-11-{n:02}.gz"),
                    gzipped(text.as_bytes()),
                );
                stream.archives.push(archive);
            }
        });
    }
}

/// Checks the request's `X-Ovh-*` headers: the application, the consumer, a timestamp within
/// a minute, and `$1$` + sha1_hex(secret+consumer+METHOD+url+body+timestamp).
fn refused(
    api: &Api,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Option<Response> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let error = |message: &str| {
        let body = json!({ "errorCode": "INVALID_SIGNATURE", "httpCode": "400 Bad Request", "message": message });
        Some((StatusCode::BAD_REQUEST, Json(body)).into_response())
    };
    if header("X-Ovh-Application") != APPLICATION_KEY {
        return error("Invalid application key");
    }
    if header("X-Ovh-Consumer") != CONSUMER_KEY {
        return error("Invalid credential");
    }
    let timestamp = header("X-Ovh-Timestamp");
    if timestamp
        .parse::<i64>()
        .map_or(true, |t| (t - now()).abs() > 60)
    {
        return error("Invalid timestamp");
    }
    let url = format!("http://{}{}", api.addr, uri);
    let text = format!(
        "{APPLICATION_SECRET}+{CONSUMER_KEY}+{method}+{url}+{}+{timestamp}",
        String::from_utf8_lossy(body)
    );
    let expected = format!("$1${}", hex::encode(Sha1::digest(text.as_bytes())));
    if header("X-Ovh-Signature") != expected {
        return error("Invalid signature");
    }
    None
}

/// The error when the path names another service or stream.
fn unknown(api: &Api, service: &str, stream: &str) -> Option<Response> {
    (service != api.service || stream != api.stream_id).then(|| {
        let body = json!({ "message": format!("This service does not exist: {service}/{stream}") });
        (StatusCode::NOT_FOUND, Json(body)).into_response()
    })
}

async fn archive_ids(
    State(api): State<Api>,
    Path((service, stream)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(no) =
        refused(&api, &method, &uri, &headers, &body).or(unknown(&api, &service, &stream))
    {
        return no;
    }
    let ids: Vec<String> = api
        .stream
        .lock()
        .expect("stream")
        .archives
        .iter()
        .map(|a| a.id.clone())
        .collect();
    Json(ids).into_response()
}

/// The archive `id` of a signed request to the configured service and stream, or the answer
/// refusing it (bad signature, unknown stream, unknown archive).
fn signed_archive(
    api: &Api,
    (method, uri, headers, body): (&Method, &Uri, &HeaderMap, &Bytes),
    service: &str,
    stream: &str,
    id: &str,
) -> Result<Archive, Box<Response>> {
    if let Some(no) = refused(api, method, uri, headers, body).or(unknown(api, service, stream)) {
        return Err(Box::new(no));
    }
    find(api, id).ok_or_else(|| {
        let body = json!({ "message": "archive not found" });
        Box::new((StatusCode::NOT_FOUND, Json(body)).into_response())
    })
}

fn find(api: &Api, id: &str) -> Option<Archive> {
    let stream = api.stream.lock().expect("stream");
    stream.archives.iter().find(|a| a.id == id).cloned()
}

async fn archive_details(
    State(api): State<Api>,
    Path((service, stream, id)): Path<(String, String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request = (&method, &uri, &headers, &body);
    match signed_archive(&api, request, &service, &stream, &id) {
        Ok(a) => Json(json!({
            "archiveId": a.id,
            "createdAt": a.created_at,
            "filename": a.filename,
            "md5": "",
            "retrievalDelay": 0,
            "retrievalState": "sealed",
            "sha256": "",
            "size": a.bytes.len(),
        }))
        .into_response(),
        Err(no) => *no,
    }
}

async fn archive_url(
    State(api): State<Api>,
    Path((service, stream, id)): Path<(String, String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request = (&method, &uri, &headers, &body);
    match signed_archive(&api, request, &service, &stream, &id) {
        Ok(a) => Json(json!({
            "expirationDate": "2099-01-01T00:00:00+00:00",
            "url": format!("http://{}/download/{}", api.addr, a.id),
        }))
        .into_response(),
        Err(no) => *no,
    }
}

async fn download(State(api): State<Api>, Path(id): Path<String>) -> Response {
    match find(&api, &id) {
        Some(a) => a.bytes.into_response(),
        None => (StatusCode::NOT_FOUND, "no such archive").into_response(),
    }
}
