//! The plugins under `/admin/plugins`: listed (disabled ones too), uploaded (a component and
//! its manifest, hot-swapped as a file dropped in the plugins directory would be — and put
//! back as it was when the new version does not load), disabled, enabled and removed.
//! A disabled plugin stays in the directory as `.disabled.<name>` (hidden from loading).

use std::path::{Path, PathBuf};

use axum::extract::{DefaultBodyLimit, Multipart, Path as UrlPath, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::{ApiError, AppState, Authenticated};
use crate::auth::Scope;

/// What a disabled plugin's name starts with in the directory.
const DISABLED: &str = ".disabled.";

/// The paths, as docs/admin-openapi.yaml describes them (after the admin API's others).
pub const PATHS: [&str; 5] = [
    "/admin/plugins",
    "/admin/plugins/{name}",
    "/admin/plugins/{name}/disable",
    "/admin/plugins/{name}/enable",
    "/admin/plugins/{name}/waivers",
];

/// The `/admin/plugins` routes; uploads may be `max_bytes` long.
pub fn router(max_bytes: usize) -> Router<AppState> {
    Router::new()
        .route(PATHS[0], get(list))
        .route(
            PATHS[1],
            put(upload)
                .delete(remove)
                .layer(DefaultBodyLimit::max(max_bytes)),
        )
        .route(PATHS[2], post(disable))
        .route(PATHS[3], post(enable))
        .route(PATHS[4], put(waivers))
}

/// Where a plugin is in the directory: `<name>/` (with its manifest) or `<name>.wasm`.
fn found(dir: &Path, name: &str) -> Option<PathBuf> {
    [dir.join(name), dir.join(format!("{name}.wasm"))]
        .into_iter()
        .find(|p| p.exists())
}

/// Fails unless `name` can name a plugin.
fn check_name(name: &str) -> Result<(), ApiError> {
    if crate::settings::is_plugin_name(name) {
        Ok(())
    } else {
        Err(ApiError::bad(format!(
            "`{name}` is not a plugin name (letters, digits, `-`, `_`)"
        )))
    }
}

/// Fails when the settings depend on plugin `name` (the store, a reactor of forwarding).
fn check_unused(state: &AppState, name: &str, what: &str) -> Result<(), ApiError> {
    if state.settings.store.to_string() == name {
        return Err(ApiError::Conflict(format!(
            "plugin `{name}` is the statement store (`store` setting): it cannot be {what} while the server runs"
        )));
    }
    if state
        .settings
        .forwarding
        .iter()
        .any(|t| t.reactor() == Some(name))
    {
        return Err(ApiError::Conflict(format!(
            "plugin `{name}` is a forwarding target (`forwarding` setting): it cannot be {what} while the server runs"
        )));
    }
    Ok(())
}

fn io(what: &str, e: std::io::Error) -> ApiError {
    ApiError::Internal(format!("{what}: {e}"))
}

/// Rescans the directory off the async workers (a component may take seconds to compile).
async fn reload(state: &AppState) -> Result<(), ApiError> {
    let plugins = state.plugins.clone();
    blocking("reloading the plugins", move || plugins.reload()).await
}

/// Runs file work (components are up to `console.max_plugin_bytes`) off the async workers.
async fn blocking<T: Send + 'static>(
    what: &str,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ApiError::Internal(format!("{what} failed: {e}")))
}

/// The plugin `name` as `GET /plugins` shows it.
fn entry(state: &AppState, name: &str) -> Option<Value> {
    state.plugins.status()["plugins"]
        .as_array()?
        .iter()
        .find(|p| p["name"] == name)
        .cloned()
}

fn audit(auth: &Authenticated, action: &str, name: &str) {
    tracing::info!(target: "xlrs::audit", by = %auth.0.username, action, plugin = %name, "admin API");
}

/// `GET /admin/plugins`: what `GET /plugins` shows, and the disabled plugins.
async fn list(State(state): State<AppState>, auth: Authenticated) -> Result<Json<Value>, ApiError> {
    auth.require(&[Scope::Admin], false)?;
    let mut answer = state.plugins.status();
    let mut disabled: Vec<String> = std::fs::read_dir(state.plugins.dir())
        .map_err(|e| io("reading the plugins directory", e))?
        .filter_map(|e| e.ok()?.file_name().to_str().map(str::to_string))
        .filter_map(|n| n.strip_prefix(DISABLED).map(str::to_string))
        .map(|n| n.strip_suffix(".wasm").map(str::to_string).unwrap_or(n))
        .collect();
    disabled.sort();
    answer["disabled"] = disabled.iter().map(|n| json!({ "name": n })).collect();
    Ok(Json(answer))
}

/// An upload: the component, and the manifest when one is given.
struct Upload {
    wasm: Vec<u8>,
    manifest: Option<String>,
}

async fn read_upload(mut form: Multipart) -> Result<Upload, ApiError> {
    let (mut wasm, mut manifest) = (None, None);
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|e| ApiError::bad(format!("the upload is not a readable form: {e}")))?
    {
        let name = field.name().unwrap_or_default().to_string();
        let bytes = field
            .bytes()
            .await
            .map_err(|e| ApiError::bad(format!("form field `{name}`: {e}")))?;
        match name.as_str() {
            "wasm" => wasm = Some(bytes.to_vec()),
            "manifest" => {
                let text = String::from_utf8(bytes.to_vec())
                    .map_err(|_| ApiError::bad("the manifest is not UTF-8 text"))?;
                manifest = Some(text).filter(|t| !t.trim().is_empty());
            }
            other => {
                return Err(ApiError::bad(format!(
                    "the upload takes the form fields `wasm` and `manifest`, not `{other}`"
                )))
            }
        }
    }
    let wasm = wasm.ok_or_else(|| ApiError::bad("the upload has no `wasm` field"))?;
    if !wasm.starts_with(b"\0asm") {
        return Err(ApiError::bad(
            "`wasm` is not a WebAssembly component (it does not start with \\0asm)",
        ));
    }
    Ok(Upload { wasm, manifest })
}

/// Writes `bytes` to `path` by a rename, so a reload sees the old file or the new, never half.
fn replace(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let staged = path.with_file_name(format!(".upload.{name}.{}", uuid::Uuid::new_v4()));
    std::fs::write(&staged, bytes)?;
    std::fs::rename(&staged, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&staged);
    })
}

/// The files of a plugin as they are, to put back: (path, content) each; `None` = absent.
type Saved = Vec<(PathBuf, Option<Vec<u8>>)>;

/// Puts the upload in `<dir>/<name>/` and answers what was there before.
fn install(dir: &Path, name: &str, upload: &Upload) -> std::io::Result<Saved> {
    let folder = dir.join(name);
    let (wasm, manifest) = (
        folder.join(format!("{name}.wasm")),
        folder.join("plugin.toml"),
    );
    let single = dir.join(format!("{name}.wasm"));
    let mut saved: Saved = Vec::new();
    for path in [&wasm, &manifest, &single] {
        saved.push((path.clone(), std::fs::read(path).ok()));
    }
    std::fs::create_dir_all(&folder)?;
    replace(&wasm, &upload.wasm)?;
    // Without a manifest, the one the plugin has stays (only the component is replaced).
    if let Some(text) = &upload.manifest {
        replace(&manifest, text.as_bytes())?;
    }
    if single.exists() {
        std::fs::remove_file(&single)?;
    }
    Ok(saved)
}

/// Puts back what [`install`] saved.
fn restore(dir: &Path, name: &str, saved: &Saved) {
    for (path, content) in saved {
        let result = match content {
            Some(bytes) => replace(path, bytes),
            None if path.exists() => std::fs::remove_file(path),
            None => Ok(()),
        };
        if let Err(e) = result {
            tracing::error!(path = %path.display(), error = %e, "could not put a plugin file back");
        }
    }
    let folder = dir.join(name);
    let empty = std::fs::read_dir(&folder).is_ok_and(|mut d| d.next().is_none());
    if empty {
        let _ = std::fs::remove_dir(&folder);
    }
}

/// `PUT /admin/plugins/{name}` (multipart form: `wasm`, optional `manifest` — without one the
/// plugin keeps the manifest it has): installs the plugin and loads it; 200 (replaced) or 201 (new) with its status. When it does not load
/// (invalid manifest or component), a 400 says why and the previous files and version stay.
async fn upload(
    State(state): State<AppState>,
    auth: Authenticated,
    UrlPath(name): UrlPath<String>,
    form: Multipart,
) -> Result<Response, ApiError> {
    auth.require(&[Scope::Admin], true)?;
    check_name(&name)?;
    let dir = state.plugins.dir().to_path_buf();
    if found(&dir, &format!("{DISABLED}{name}")).is_some() {
        return Err(ApiError::Conflict(format!(
            "plugin `{name}` is disabled: enable or remove it before uploading a new version"
        )));
    }
    let upload = read_upload(form).await?;
    if let Some(text) = &upload.manifest {
        xlrs_plugin_host::Manifest::parse(text, Path::new("plugin.toml"))
            .map_err(|e| ApiError::bad(format!("the manifest is invalid: {e}")))?;
    }
    let existed = found(&dir, &name).is_some();
    let (hash, saved) = {
        let (dir, name) = (dir.clone(), name.clone());
        blocking("writing the plugin", move || {
            let hash = hex::encode(Sha256::digest(&upload.wasm));
            install(&dir, &name, &upload).map(|saved| (hash, saved))
        })
        .await?
        .map_err(|e| io("writing the plugin", e))?
    };
    reload(&state).await?;
    let now = entry(&state, &name);
    let loaded = now.as_ref().is_some_and(|p| {
        p["serving"] == true && p["hash"] == hash.as_str() && p["last_error"].is_null()
    });
    if !loaded {
        let why = now
            .as_ref()
            .and_then(|p| p["last_error"].as_str().map(str::to_string))
            .unwrap_or_else(|| "it did not load".into());
        let back = name.clone();
        blocking("putting the plugin back", move || {
            restore(&dir, &back, &saved)
        })
        .await?;
        reload(&state).await?;
        return Err(ApiError::bad(format!(
            "plugin `{name}` was not installed: {why}{}",
            if existed {
                "; the previous version keeps serving"
            } else {
                ""
            }
        )));
    }
    audit(
        &auth,
        if existed {
            "replace plugin"
        } else {
            "add plugin"
        },
        &name,
    );
    let status = if existed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(json!({ "plugin": now }))).into_response())
}

/// Renames plugin `name` from `from` + name to `to` + name (both its forms), then reloads.
async fn rename(state: &AppState, name: &str, from: &str, to: &str) -> Result<(), ApiError> {
    let dir = state.plugins.dir();
    let Some(path) = found(dir, &format!("{from}{name}")) else {
        return Err(ApiError::NotFound(format!(
            "no {}plugin `{name}`",
            if from.is_empty() { "" } else { "disabled " }
        )));
    };
    let file = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .replacen(&format!("{from}{name}"), &format!("{to}{name}"), 1);
    let target = dir.join(file);
    if target.exists() {
        return Err(ApiError::Conflict(format!(
            "`{}` is in the way in the plugins directory",
            target.display()
        )));
    }
    std::fs::rename(&path, &target).map_err(|e| io("renaming the plugin", e))?;
    reload(state).await
}

/// `POST /admin/plugins/{name}/disable`: stops it serving; its files stay (204).
async fn disable(
    State(state): State<AppState>,
    auth: Authenticated,
    UrlPath(name): UrlPath<String>,
) -> Result<StatusCode, ApiError> {
    auth.require(&[Scope::Admin], true)?;
    check_name(&name)?;
    check_unused(&state, &name, "disabled")?;
    rename(&state, &name, "", DISABLED).await?;
    audit(&auth, "disable plugin", &name);
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /admin/plugins/{name}/enable`: loads a disabled plugin again; its status (200), or
/// a 400 saying why it does not load (it is then left as it is, serving).
async fn enable(
    State(state): State<AppState>,
    auth: Authenticated,
    UrlPath(name): UrlPath<String>,
) -> Result<Json<Value>, ApiError> {
    auth.require(&[Scope::Admin], true)?;
    check_name(&name)?;
    if found(state.plugins.dir(), &name).is_some() {
        return Err(ApiError::Conflict(format!(
            "a plugin `{name}` is already enabled"
        )));
    }
    rename(&state, &name, DISABLED, "").await?;
    audit(&auth, "enable plugin", &name);
    let now = entry(&state, &name);
    if let Some(error) = now.as_ref().and_then(|p| p["last_error"].as_str()) {
        return Err(ApiError::bad(format!(
            "plugin `{name}` is enabled but does not load: {error}"
        )));
    }
    Ok(Json(json!({ "plugin": now })))
}

/// `DELETE /admin/plugins/{name}`: removes its files, enabled or disabled (204).
async fn remove(
    State(state): State<AppState>,
    auth: Authenticated,
    UrlPath(name): UrlPath<String>,
) -> Result<StatusCode, ApiError> {
    auth.require(&[Scope::Admin], true)?;
    check_name(&name)?;
    check_unused(&state, &name, "removed")?;
    let dir = state.plugins.dir().to_path_buf();
    let paths: Vec<PathBuf> = [name.clone(), format!("{DISABLED}{name}")]
        .iter()
        .filter_map(|n| found(&dir, n))
        .collect();
    if paths.is_empty() {
        return Err(ApiError::NotFound(format!("no plugin `{name}`")));
    }
    for path in paths {
        let result = if path.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        result.map_err(|e| io("removing the plugin", e))?;
    }
    reload(&state).await?;
    audit(&auth, "remove plugin", &name);
    Ok(StatusCode::NO_CONTENT)
}

/// The rules an admission plugin may waive: a list, or `null` for every rule the LRS can look
/// past.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Waivers {
    waive: Option<Vec<String>>,
}

/// `PUT /admin/plugins/{name}/waivers` (`{"waive": ["iri", …]}` or `{"waive": null}`): sets
/// `[admission] waive` in the plugin's manifest (its comments and other settings kept) and
/// reloads it; its status. A statement whose waiver names another rule is then refused.
async fn waivers(
    State(state): State<AppState>,
    auth: Authenticated,
    UrlPath(name): UrlPath<String>,
    bytes: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    auth.require(&[Scope::Admin], true)?;
    check_name(&name)?;
    let asked: Waivers = serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::bad(format!(
            "the body must be {{\"waive\": [rule, …] or null}}: {e}"
        ))
    })?;
    let Some(current) = entry(&state, &name) else {
        return Err(ApiError::NotFound(format!("no plugin `{name}`")));
    };
    if current["kind"] != "admission" {
        return Err(ApiError::Conflict(format!(
            "plugin `{name}` is not an admission plugin: it waives nothing"
        )));
    }
    let manifest = state.plugins.dir().join(&name).join("plugin.toml");
    let text = std::fs::read_to_string(&manifest).map_err(|_| {
        ApiError::Conflict(format!(
            "plugin `{name}` has no manifest ({}): upload it with one first",
            manifest.display()
        ))
    })?;
    let mut document: toml_edit::DocumentMut = text
        .parse()
        .map_err(|e| ApiError::Internal(format!("its manifest is not TOML: {e}")))?;
    match &asked.waive {
        Some(rules) => {
            let list: toml_edit::Array = rules.iter().map(String::as_str).collect();
            if !document.contains_table("admission") {
                document["admission"] = toml_edit::table();
            }
            document["admission"]["waive"] = toml_edit::value(list);
        }
        None => {
            if let Some(table) = document
                .get_mut("admission")
                .and_then(|t| t.as_table_like_mut())
            {
                table.remove("waive");
            }
        }
    }
    let changed = document.to_string();
    xlrs_plugin_host::Manifest::parse(&changed, &manifest)
        .map_err(|e| ApiError::bad(format!("{e}")))?;
    replace(&manifest, changed.as_bytes()).map_err(|e| io("writing the manifest", e))?;
    reload(&state).await?;
    let now = entry(&state, &name);
    if let Some(error) = now.as_ref().and_then(|p| p["last_error"].as_str()) {
        let error = error.to_string();
        replace(&manifest, text.as_bytes()).map_err(|e| io("restoring the manifest", e))?;
        reload(&state).await?;
        return Err(ApiError::bad(format!(
            "plugin `{name}` does not load with these waivers ({error}); its manifest is as it was"
        )));
    }
    audit(&auth, "set plugin waivers", &name);
    Ok(Json(json!({ "plugin": now })))
}
