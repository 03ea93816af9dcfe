//! A stand-in for OpenStack Swift behind Keystone v3, with the documented endpoints the toolbox
//! uses: `POST /v3/auth/tokens` (password method, project scope; the token in
//! `X-Subject-Token`, the object-store endpoints in the catalog), and on the storage URL
//! `GET /{container}?format=json&prefix=&marker=` (paged, two names a page, to make clients
//! follow markers), `GET`/`HEAD`/`PUT /{container}/{object}` (`If-None-Match: *` answered 412
//! when the object exists; an upload whose body does not arrive whole stores nothing).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use super::Background;

/// The Keystone user the server accepts.
pub const USER: &str = "swift-user";
/// Its password.
pub const PASSWORD: &str = "swift-password";
/// The project tokens are scoped to.
pub const PROJECT: &str = "lrs-project";
/// The region of the right object-store endpoint (another region has a wrong one).
pub const REGION: &str = "RegionOne";
/// A token accepted without Keystone (the pre-authenticated mode).
pub const PREAUTH_TOKEN: &str = "preauth-token";
/// Names per page of a container listing.
const PAGE: usize = 2;

/// An upload the server received.
#[derive(Debug, Clone)]
pub struct Upload {
    /// The object name.
    pub object: String,
    /// Whether it came with `If-None-Match: *`.
    pub if_none_match: bool,
    /// Whether the body came chunked (streamed).
    pub chunked: bool,
    /// Whether it was stored.
    pub stored: bool,
}

#[derive(Default)]
struct Store {
    containers: BTreeSet<String>,
    objects: BTreeMap<(String, String), (Vec<u8>, String)>,
    tokens: BTreeSet<String>,
    uploads: Vec<Upload>,
}

type Shared = Arc<Mutex<Store>>;

/// A running stand-in.
pub struct SwiftServer {
    addr: SocketAddr,
    store: Shared,
    _background: Background,
}

impl SwiftServer {
    /// Starts a server with no containers.
    pub fn start() -> SwiftServer {
        let background = Background::new();
        let (listener, addr) = background.listener();
        let store: Shared = Arc::default();
        store
            .lock()
            .expect("store")
            .tokens
            .insert(PREAUTH_TOKEN.to_string());
        let app = Router::new()
            .route("/v3/auth/tokens", post(tokens))
            .route("/v1/{account}/{container}", get(listing))
            .route(
                "/v1/{account}/{container}/{*object}",
                get(get_object).put(put_object),
            )
            .with_state((store.clone(), addr));
        background.serve(listener, app);
        SwiftServer {
            addr,
            store,
            _background: background,
        }
    }

    /// The `OS_*` variables of Keystone password authentication against this server.
    pub fn settings(&self) -> Vec<(&'static str, String)> {
        vec![
            ("OS_AUTH_URL", format!("http://{}/v3", self.addr)),
            ("OS_USERNAME", USER.into()),
            ("OS_PASSWORD", PASSWORD.into()),
            ("OS_PROJECT_NAME", PROJECT.into()),
            ("OS_USER_DOMAIN_NAME", "Default".into()),
            ("OS_PROJECT_DOMAIN_NAME", "Default".into()),
            ("OS_REGION_NAME", REGION.into()),
        ]
    }

    /// The storage URL of the account (for the pre-authenticated mode).
    pub fn storage_url(&self) -> String {
        format!("http://{}/v1/AUTH_test", self.addr)
    }

    /// Creates a container.
    pub fn create_container(&self, name: &str) {
        self.store
            .lock()
            .expect("store")
            .containers
            .insert(name.to_string());
    }

    /// Stores an object directly.
    pub fn put(&self, container: &str, object: &str, bytes: &[u8]) {
        let modified = "2026-11-01T10:00:00.000000".to_string();
        self.store.lock().expect("store").objects.insert(
            (container.to_string(), object.to_string()),
            (bytes.to_vec(), modified),
        );
    }

    /// An object's content.
    pub fn object(&self, container: &str, object: &str) -> Option<Vec<u8>> {
        let store = self.store.lock().expect("store");
        let key = (container.to_string(), object.to_string());
        store.objects.get(&key).map(|(bytes, _)| bytes.clone())
    }

    /// Every upload received, in order.
    pub fn uploads(&self) -> Vec<Upload> {
        self.store.lock().expect("store").uploads.clone()
    }
}

type AppState = (Shared, SocketAddr);

async fn tokens(State((store, addr)): State<AppState>, Json(body): Json<Value>) -> Response {
    let identity = &body["auth"]["identity"];
    let user = &identity["password"]["user"];
    let project = &body["auth"]["scope"]["project"];
    let accepted = identity["methods"] == json!(["password"])
        && user["name"] == USER
        && user["password"] == PASSWORD
        && user["domain"]["name"] == "Default"
        && project["name"] == PROJECT
        && project["domain"]["name"] == "Default";
    if !accepted {
        let error = json!({ "error": { "code": 401, "title": "Unauthorized",
            "message": "The request you have made requires authentication." } });
        return (StatusCode::UNAUTHORIZED, Json(error)).into_response();
    }
    let token = format!("gAAAA{}", uuid::Uuid::new_v4().simple());
    store.lock().expect("store").tokens.insert(token.clone());
    let endpoint = |interface: &str, region: &str, path: &str| {
        json!({ "interface": interface, "region": region, "region_id": region,
                "url": format!("http://{addr}{path}"), "id": uuid::Uuid::new_v4().simple().to_string() })
    };
    let catalog = json!([
        { "type": "identity", "name": "keystone", "endpoints": [endpoint("public", REGION, "/v3")] },
        { "type": "object-store", "name": "swift", "endpoints": [
            endpoint("internal", REGION, "/internal-only/AUTH_test"),
            endpoint("public", "RegionTwo", "/other-region/AUTH_test"),
            endpoint("public", REGION, "/v1/AUTH_test"),
        ] },
    ]);
    let answer = json!({ "token": {
        "methods": ["password"],
        "user": { "name": USER, "domain": { "name": "Default" } },
        "project": { "name": PROJECT, "domain": { "name": "Default" } },
        "expires_at": "2099-01-01T00:00:00.000000Z",
        "catalog": catalog,
    } });
    (
        StatusCode::CREATED,
        [("X-Subject-Token", token)],
        Json(answer),
    )
        .into_response()
}

/// The error response when the request's token is not one the server gave, or the account is
/// not the one in the catalog.
fn unauthorized(store: &Shared, account: &str, headers: &HeaderMap) -> Option<Response> {
    let token = headers
        .get("X-Auth-Token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let known = store.lock().expect("store").tokens.contains(token);
    (!known || account != "AUTH_test")
        .then(|| (StatusCode::UNAUTHORIZED, "Unauthorized").into_response())
}

async fn listing(
    State((store, _)): State<AppState>,
    Path((account, container)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = unauthorized(&store, &account, &headers) {
        return refused;
    }
    if query.get("format").map(String::as_str) != Some("json") {
        return (StatusCode::BAD_REQUEST, "this stand-in lists as JSON only").into_response();
    }
    let prefix = query.get("prefix").cloned().unwrap_or_default();
    let marker = query.get("marker").cloned().unwrap_or_default();
    let store = store.lock().expect("store");
    if !store.containers.contains(&container) {
        return (StatusCode::NOT_FOUND, "Not Found").into_response();
    }
    let page: Vec<Value> = store
        .objects
        .iter()
        .filter(|((c, name), _)| *c == container && name.starts_with(&prefix) && *name > marker)
        .take(PAGE)
        .map(|((_, name), (bytes, modified))| {
            json!({ "name": name, "bytes": bytes.len(), "last_modified": modified,
                    "hash": "", "content_type": "application/x-ndjson" })
        })
        .collect();
    Json(page).into_response()
}

async fn get_object(
    State((store, _)): State<AppState>,
    Path((account, container, object)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = unauthorized(&store, &account, &headers) {
        return refused;
    }
    let store = store.lock().expect("store");
    match store.objects.get(&(container, object)) {
        Some((bytes, _)) => Body::from(bytes.clone()).into_response(),
        None => (StatusCode::NOT_FOUND, "Not Found").into_response(),
    }
}

async fn put_object(
    State((store, _)): State<AppState>,
    Path((account, container, object)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    if let Some(refused) = unauthorized(&store, &account, &headers) {
        return refused;
    }
    let mut upload = Upload {
        object: object.clone(),
        if_none_match: headers.get("If-None-Match").is_some_and(|v| v == "*"),
        chunked: headers
            .get("Transfer-Encoding")
            .is_some_and(|v| v == "chunked"),
        stored: false,
    };
    let key = (container.clone(), object);
    let exists = {
        let store = store.lock().expect("store");
        if !store.containers.contains(&container) {
            return (StatusCode::NOT_FOUND, "Not Found").into_response();
        }
        store.objects.contains_key(&key)
    };
    if exists && upload.if_none_match {
        store.lock().expect("store").uploads.push(upload);
        return (StatusCode::PRECONDITION_FAILED, "Precondition Failed").into_response();
    }
    let received: Result<Bytes, _> = axum::body::to_bytes(body, usize::MAX).await;
    let mut store = store.lock().expect("store");
    let answer = match received {
        Ok(bytes) => {
            let modified = "2026-11-22T10:00:00.000000".to_string();
            store.objects.insert(key, (bytes.to_vec(), modified));
            upload.stored = true;
            (StatusCode::CREATED, "").into_response()
        }
        // The client gave up mid-body: Swift stores nothing.
        Err(_) => (StatusCode::from_u16(499).expect("499"), "Client Disconnect").into_response(),
    };
    store.uploads.push(upload);
    answer
}
