//! The Swift backend: OpenStack Swift object storage through its HTTP API, statements as
//! JSON-lines objects of a container (`.jsonl`, `.json`, and the same gzipped), as Ralph's
//! `swift` backend keeps them.
//!
//! Authentication is Keystone v3 password authentication, with the OpenStack CLI's settings:
//! `--auth-url`/`OS_AUTH_URL`, `--username`/`OS_USERNAME`, `--password`/`OS_PASSWORD`,
//! `--project`/`OS_PROJECT_NAME` (or `OS_TENANT_NAME`, or `OS_PROJECT_ID`),
//! `OS_USER_DOMAIN_NAME` and `OS_PROJECT_DOMAIN_NAME` (default `Default`), and
//! `--region`/`OS_REGION_NAME` to choose among the catalog's public object-store endpoints.
//! With `--endpoint`/`OS_STORAGE_URL` and `--token`/`OS_AUTH_TOKEN` Keystone is skipped.

use std::io::{BufRead, Read, Write};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use reqwest::blocking::{Client, RequestBuilder};
use reqwest::StatusCode;
use serde::Deserialize;
use serde_json::{json, Value};

use super::lines::decoded;
use super::progress::LineCopy;
use super::{flag_or_env, success, Access, Backend, ReadFrom, WriteTo, Written};

/// Characters escaped in an object name: `/` stays, it is part of Swift's pseudo-folders.
const OBJECT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'/');
/// Characters escaped in a container name.
const CONTAINER: &AsciiSet = &OBJECT.add(b'/');
/// Bytes handed to the upload at a time.
const CHUNK: usize = 256 << 10;
/// Time allowed for a request that is not a transfer (auth, listing, HEAD).
const API_TIMEOUT: Duration = Duration::from_secs(60);
/// The file endings read as statements.
const STATEMENT_FILES: [&str; 4] = [".jsonl", ".json", ".jsonl.gz", ".json.gz"];

/// A container and a prefix in it, with a storage URL and a token.
pub struct Swift {
    client: Client,
    storage_url: String,
    token: String,
    container: String,
    prefix: String,
}

/// One object of a container listing.
#[derive(Debug, Deserialize)]
struct ObjectEntry {
    name: String,
    #[serde(default)]
    bytes: u64,
    #[serde(default)]
    last_modified: Option<String>,
}

impl Swift {
    /// Opens `swift://CONTAINER[/PREFIX]`, authenticating as the flags and `OS_*` variables say.
    pub fn open(access: &Access) -> anyhow::Result<Self> {
        let url = access
            .url
            .as_deref()
            .ok_or_else(|| anyhow!("--backend swift needs --url swift://CONTAINER[/PREFIX]"))?;
        let rest = url
            .strip_prefix("swift://")
            .ok_or_else(|| anyhow!("--url must be swift://CONTAINER[/PREFIX], got {url}"))?;
        let (container, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if container.is_empty() {
            bail!("--url swift://CONTAINER[/PREFIX] names no container");
        }
        let client = Client::builder()
            .connect_timeout(Duration::from_secs(30))
            .timeout(None)
            .build()?;
        let storage = flag_or_env(&access.endpoint, &["OS_STORAGE_URL"]);
        let token = flag_or_env(&access.token, &["OS_AUTH_TOKEN"]);
        let (storage_url, token) = match (storage, token) {
            (Some(storage), Some(token)) => (storage, token),
            _ => keystone(&client, access)?,
        };
        Ok(Self {
            client,
            storage_url: storage_url.trim_end_matches('/').to_string(),
            token,
            container: container.to_string(),
            prefix: prefix.trim_matches('/').to_string(),
        })
    }

    /// The full name of `name` under the prefix.
    fn object(&self, name: &str) -> String {
        if self.prefix.is_empty() {
            name.to_string()
        } else {
            format!("{}/{name}", self.prefix)
        }
    }

    fn container_url(&self) -> String {
        format!(
            "{}/{}",
            self.storage_url,
            utf8_percent_encode(&self.container, CONTAINER)
        )
    }

    fn object_url(&self, object: &str) -> String {
        format!(
            "{}/{}",
            self.container_url(),
            utf8_percent_encode(object, OBJECT)
        )
    }

    fn request(&self, method: reqwest::Method, url: &str) -> RequestBuilder {
        self.client
            .request(method, url)
            .header("X-Auth-Token", &self.token)
    }

    /// The statement objects under the prefix, by name, every page of the listing.
    fn objects(&self) -> anyhow::Result<Vec<ObjectEntry>> {
        let prefix = if self.prefix.is_empty() {
            String::new()
        } else {
            format!("{}/", self.prefix)
        };
        let mut found = Vec::new();
        let mut marker = String::new();
        loop {
            let response = self
                .request(reqwest::Method::GET, &self.container_url())
                .query(&[
                    ("format", "json"),
                    ("prefix", prefix.as_str()),
                    ("marker", marker.as_str()),
                ])
                .timeout(API_TIMEOUT)
                .send()
                .with_context(|| format!("listing swift container {}", self.container))?;
            if response.status() == StatusCode::NO_CONTENT {
                break;
            }
            let response = success(response, "swift", || {
                format!("listing container {}", self.container)
            })?;
            let page: Vec<ObjectEntry> = response
                .json()
                .with_context(|| format!("listing swift container {}", self.container))?;
            let Some(last) = page.last() else { break };
            marker = last.name.clone();
            found.extend(page);
        }
        found.retain(|o| STATEMENT_FILES.iter().any(|end| o.name.ends_with(end)));
        found.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(found)
    }

    /// Writes the statements of one object (`name`, under the prefix), or of every statement
    /// object under the prefix, to `out`, skipping the first `skip`. Objects are streamed.
    pub fn read(&self, name: Option<&str>, skip: u64, out: &mut dyn Write) -> anyhow::Result<u64> {
        let objects = match name {
            Some(n) => vec![self.object(n)],
            None => self.objects()?.into_iter().map(|o| o.name).collect(),
        };
        let mut copy = LineCopy::new(skip, "read");
        for object in objects {
            let response = self
                .request(reqwest::Method::GET, &self.object_url(&object))
                .send()
                .with_context(|| format!("reading swift object {object}"))?;
            let response = success(response, "swift", || format!("reading object {object}"))?;
            let input = decoded(response, object.ends_with(".gz"));
            copy.lines(input, out, |n| format!("swift object {object}, line {n}"))?;
        }
        Ok(copy.finish())
    }

    /// Uploads the JSON lines of `input` as a new object `name` (default
    /// `statements-<time>.jsonl`) in one streamed (chunked) PUT with `If-None-Match: *`: an
    /// existing object is never overwritten, and an upload cut short (an invalid line, a
    /// failure) is never completed, so the object appears whole or not at all.
    pub fn write(
        &self,
        name: Option<&str>,
        input: &mut dyn BufRead,
    ) -> anyhow::Result<(String, u64)> {
        let name = name.map_or_else(super::default_name, str::to_string);
        let object = self.object(&name);
        let place = format!("{}/{object}", self.container);
        let url = self.object_url(&object);
        let head = self
            .request(reqwest::Method::HEAD, &url)
            .timeout(API_TIMEOUT)
            .send()
            .with_context(|| format!("checking swift object {place}"))?;
        if head.status().is_success() {
            bail!("swift object {place} exists: pick another --target");
        }
        let (tx, rx) = sync_channel(4);
        std::thread::scope(|scope| {
            let upload = scope.spawn(|| {
                self.request(reqwest::Method::PUT, &url)
                    .header("If-None-Match", "*")
                    .header("Content-Type", "application/x-ndjson")
                    .body(reqwest::blocking::Body::new(Chunks::new(rx)))
                    .send()
            });
            let fed = feed(input, &tx);
            if fed.is_err() {
                // The upload ends with an error instead of its last chunk: nothing is stored.
                let _ = tx.send(Err(std::io::Error::other("input rejected")));
            }
            drop(tx);
            let sent = upload
                .join()
                .map_err(|_| anyhow!("the swift upload thread failed"))?;
            let count = fed?;
            let response = sent.with_context(|| format!("writing swift object {place}"))?;
            if response.status() == StatusCode::PRECONDITION_FAILED {
                bail!("swift object {place} exists: pick another --target");
            }
            success(response, "swift", || format!("writing object {place}"))?;
            Ok((place.clone(), count))
        })
    }

    /// The statement objects under the prefix, one JSON object each (name, bytes, modified).
    pub fn list(&self, out: &mut dyn Write) -> anyhow::Result<()> {
        for o in self.objects()? {
            let entry = json!({ "name": o.name, "bytes": o.bytes, "modified": o.last_modified });
            writeln!(out, "{entry}")?;
        }
        Ok(())
    }
}

/// Copies the checked lines of `input` to the upload in chunks; how many statements.
fn feed(input: &mut dyn BufRead, tx: &SyncSender<std::io::Result<Vec<u8>>>) -> anyhow::Result<u64> {
    let mut copy = LineCopy::new(0, "written");
    let mut chunk = Vec::with_capacity(CHUNK);
    for (number, line) in input.lines().enumerate() {
        let line = line.context("reading stdin")?;
        copy.line(&line, &mut chunk, || format!("input line {}", number + 1))?;
        if chunk.len() >= CHUNK && tx.send(Ok(std::mem::take(&mut chunk))).is_err() {
            // The upload stopped early; its own error says why.
            return Ok(copy.finish());
        }
    }
    if !chunk.is_empty() {
        let _ = tx.send(Ok(chunk));
    }
    Ok(copy.finish())
}

/// The request body of an upload: the chunks sent by [`feed`], an error ending it early.
struct Chunks {
    rx: Receiver<std::io::Result<Vec<u8>>>,
    chunk: Vec<u8>,
    at: usize,
}

impl Chunks {
    fn new(rx: Receiver<std::io::Result<Vec<u8>>>) -> Self {
        Self {
            rx,
            chunk: Vec::new(),
            at: 0,
        }
    }
}

impl Read for Chunks {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.at == self.chunk.len() {
            match self.rx.recv() {
                Ok(Ok(chunk)) => {
                    self.chunk = chunk;
                    self.at = 0;
                }
                Ok(Err(e)) => return Err(e),
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.chunk.len() - self.at);
        buf[..n].copy_from_slice(&self.chunk[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// Keystone v3 password authentication: the object-store endpoint (public interface, the
/// region asked for) from the token's catalog, and the token.
fn keystone(client: &Client, access: &Access) -> anyhow::Result<(String, String)> {
    let missing = |what: &str| {
        anyhow!(
            "--backend swift needs {what} (or OS_STORAGE_URL and OS_AUTH_TOKEN to skip Keystone)"
        )
    };
    let auth_url = flag_or_env(&access.auth_url, &["OS_AUTH_URL"])
        .ok_or_else(|| missing("--auth-url or OS_AUTH_URL"))?;
    let username = flag_or_env(&access.username, &["OS_USERNAME"])
        .ok_or_else(|| missing("--username or OS_USERNAME"))?;
    let password = flag_or_env(&access.password, &["OS_PASSWORD"])
        .ok_or_else(|| missing("--password or OS_PASSWORD"))?;
    let user_domain = flag_or_env(&None, &["OS_USER_DOMAIN_NAME"]).unwrap_or("Default".into());
    let project_domain =
        flag_or_env(&None, &["OS_PROJECT_DOMAIN_NAME"]).unwrap_or("Default".into());
    let project = match (
        flag_or_env(&access.project, &["OS_PROJECT_NAME", "OS_TENANT_NAME"]),
        flag_or_env(&None, &["OS_PROJECT_ID", "OS_TENANT_ID"]),
    ) {
        (Some(name), _) => Some(json!({ "name": name, "domain": { "name": project_domain } })),
        (None, Some(id)) => Some(json!({ "id": id })),
        (None, None) => None,
    };
    let region = flag_or_env(&access.region, &["OS_REGION_NAME"]);
    let mut auth = json!({ "identity": {
        "methods": ["password"],
        "password": { "user": {
            "name": username,
            "domain": { "name": user_domain },
            "password": password,
        } },
    } });
    if let Some(project) = project {
        auth["scope"] = json!({ "project": project });
    }
    let base = auth_url.trim_end_matches('/');
    let tokens = if base.ends_with("/v3") {
        format!("{base}/auth/tokens")
    } else {
        format!("{base}/v3/auth/tokens")
    };
    let response = client
        .post(&tokens)
        .json(&json!({ "auth": auth }))
        .timeout(API_TIMEOUT)
        .send()
        .with_context(|| format!("authenticating at {tokens}"))?;
    let response = success(response, "keystone", || {
        format!("authenticating at {tokens}")
    })?;
    let token = response
        .headers()
        .get("X-Subject-Token")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| anyhow!("keystone at {tokens} sent no X-Subject-Token"))?
        .to_string();
    let body: Value = response.json().context("reading keystone's token")?;
    let storage_url = object_store_endpoint(&body, region.as_deref())?;
    Ok((storage_url, token))
}

/// The public object-store endpoint of a Keystone v3 token's catalog, in `region` when given.
fn object_store_endpoint(token: &Value, region: Option<&str>) -> anyhow::Result<String> {
    let empty = Vec::new();
    let catalog = token["token"]["catalog"].as_array().unwrap_or(&empty);
    let public: Vec<&Value> = catalog
        .iter()
        .filter(|service| service["type"] == "object-store")
        .flat_map(|service| service["endpoints"].as_array().unwrap_or(&empty))
        .filter(|endpoint| endpoint["interface"] == "public")
        .collect();
    let in_region = |endpoint: &&&Value| {
        region.is_none_or(|r| endpoint["region_id"] == r || endpoint["region"] == r)
    };
    match public.iter().find(in_region) {
        Some(endpoint) => endpoint["url"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| anyhow!("keystone's object-store endpoint has no url")),
        None => {
            let regions: Vec<&str> = public
                .iter()
                .filter_map(|e| e["region_id"].as_str().or(e["region"].as_str()))
                .collect();
            bail!(
                "keystone's catalog has no public object-store endpoint{} (regions: {})",
                region
                    .map(|r| format!(" in region {r}"))
                    .unwrap_or_default(),
                regions.join(", ")
            )
        }
    }
}

impl Backend for Swift {
    fn read(&self, from: &ReadFrom, out: &mut dyn Write) -> anyhow::Result<u64> {
        Swift::read(self, from.object.as_deref(), from.skip, out)
    }

    fn write(&self, to: &WriteTo, input: &mut dyn BufRead) -> anyhow::Result<Written> {
        let (object, count) = Swift::write(self, to.target.as_deref(), input)?;
        Ok(Written {
            count,
            place: format!("written to swift object {object}"),
        })
    }

    fn list(&self, out: &mut dyn Write) -> anyhow::Result<()> {
        Swift::list(self, out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_public_object_store_endpoint_of_the_region_is_chosen() {
        let token = json!({ "token": { "catalog": [
            { "type": "identity", "endpoints": [
                { "interface": "public", "region_id": "A", "url": "http://keystone" } ] },
            { "type": "object-store", "endpoints": [
                { "interface": "internal", "region_id": "B", "url": "http://internal" },
                { "interface": "public", "region_id": "A", "url": "http://a" },
                { "interface": "public", "region_id": "B", "url": "http://b" } ] },
        ] } });
        assert_eq!(
            object_store_endpoint(&token, Some("B")).unwrap(),
            "http://b"
        );
        assert_eq!(object_store_endpoint(&token, None).unwrap(), "http://a");
        let err = object_store_endpoint(&token, Some("C")).unwrap_err();
        assert!(err.to_string().contains("regions: A, B"), "{err}");
    }

    #[test]
    fn object_names_keep_their_folders_when_escaped() {
        assert_eq!(
            utf8_percent_encode("2026/11/a b.jsonl", OBJECT).to_string(),
            "2026/11/a%20b.jsonl"
        );
        assert_eq!(utf8_percent_encode("a/b", CONTAINER).to_string(), "a%2Fb");
    }
}
