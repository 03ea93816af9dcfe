//! The LRS backend: any xAPI LRS over HTTP (xlrs, Ralph, SQL LRS, Learning Locker). Reading
//! follows `more` links; writing POSTs batches with ids set beforehand, so a batch retried
//! after a lost response is stored once (an LRS accepts an identical re-send).

use std::io::{BufRead, Write};
use std::time::Duration;

use anyhow::{bail, Context};
use reqwest::blocking::{Client, RequestBuilder};
use reqwest::StatusCode;
use serde_json::Value;

use super::lines::batches;
use super::progress::Progress;
use super::{Backend, ReadFrom, WriteTo, Written};
use xlrs_xapi::version::{XapiVersion, VERSION_HEADER};

/// The xAPI version reads ask for: 1.0.3, which every LRS in use serves (writes use
/// [`XapiVersion::to_send`]).
const VERSION: XapiVersion = XapiVersion::V1_0_3;
/// Attempts per request before giving up (network errors, 429 and 5xx).
const ATTEMPTS: u32 = 6;

/// An LRS endpoint and its credentials.
pub struct Lrs {
    /// The xAPI base URL, e.g. `http://127.0.0.1:8100/xAPI`.
    pub url: String,
    /// Basic auth username, if any.
    pub username: Option<String>,
    /// Basic auth password.
    pub password: Option<String>,
    client: Client,
}

impl Lrs {
    /// A client for `url` (trailing `/` ignored).
    pub fn new(
        url: &str,
        username: Option<String>,
        password: Option<String>,
    ) -> anyhow::Result<Self> {
        let client = Client::builder()
            .timeout(Duration::from_secs(120))
            .build()?;
        Ok(Self {
            url: url.trim_end_matches('/').to_string(),
            username,
            password,
            client,
        })
    }

    fn request(&self, method: reqwest::Method, url: &str) -> RequestBuilder {
        self.request_version(method, url, VERSION)
    }

    fn request_version(
        &self,
        method: reqwest::Method,
        url: &str,
        version: XapiVersion,
    ) -> RequestBuilder {
        let r = self
            .client
            .request(method, url)
            .header(VERSION_HEADER, version.as_str());
        match &self.username {
            Some(u) => r.basic_auth(u, self.password.as_deref()),
            None => r,
        }
    }

    /// Sends a request, retrying network errors, 429 and 5xx with backoff.
    fn send(
        &self,
        build: impl Fn() -> RequestBuilder,
    ) -> anyhow::Result<reqwest::blocking::Response> {
        let mut wait = Duration::from_millis(250);
        let mut attempt = 1;
        loop {
            let retry = match build().send() {
                Ok(r)
                    if r.status() == StatusCode::TOO_MANY_REQUESTS
                        || r.status().is_server_error() =>
                {
                    format!("{}", r.status())
                }
                Ok(r) => return Ok(r),
                Err(e) => e.to_string(),
            };
            if attempt == ATTEMPTS {
                bail!("the LRS did not answer after {ATTEMPTS} attempts: {retry}");
            }
            tracing::warn!(attempt, error = %retry, "retrying");
            std::thread::sleep(wait);
            wait = (wait * 2).min(Duration::from_secs(10));
            attempt += 1;
        }
    }

    /// The absolute URL of a `more` link (relative to the LRS's origin).
    fn absolute(&self, more: &str) -> String {
        if more.starts_with("http://") || more.starts_with("https://") {
            return more.to_string();
        }
        let origin_end = self
            .url
            .find("://")
            .and_then(|i| self.url[i + 3..].find('/').map(|j| i + 3 + j))
            .unwrap_or(self.url.len());
        format!("{}{more}", &self.url[..origin_end])
    }

    /// Writes the statements matching `query` (a statements query string, e.g.
    /// `verb=…&since=…`), or those from a `more` link to resume, to `out` as JSON lines, each
    /// voided statement (`voidedStatementId`) before the one voiding it. Returns the count; on
    /// failure the error names the `more` link to resume from.
    pub fn read(
        &self,
        query: Option<&str>,
        resume: Option<&str>,
        out: &mut dyn Write,
    ) -> anyhow::Result<u64> {
        let progress = Progress::new("read");
        let mut next = match resume {
            Some(more) => self.absolute(more),
            None => format!("{}/statements?{}", self.url, query.unwrap_or("")),
        };
        let mut count = 0u64;
        loop {
            let page: Value = (|| -> anyhow::Result<Value> {
                let r = self.send(|| self.request(reqwest::Method::GET, &next))?;
                let status = r.status();
                let body = r.text()?;
                if !status.is_success() {
                    bail!("GET statements: {status}: {body}");
                }
                serde_json::from_str(&body).context("the LRS answered with something not JSON")
            })()
            .with_context(|| format!("resume with --more '{next}'"))?;
            for statement in page["statements"].as_array().into_iter().flatten() {
                if let Some(target) = super::voided::target_of_value(statement) {
                    if let Some(voided) = self.voided(target)? {
                        writeln!(out, "{voided}")?;
                        count += 1;
                        progress.add(1);
                    }
                }
                writeln!(out, "{statement}")?;
                count += 1;
                progress.add(1);
            }
            match page["more"].as_str().filter(|m| !m.is_empty()) {
                Some(more) => next = self.absolute(more),
                None => break,
            }
        }
        progress.finish();
        Ok(count)
    }

    /// The voided statement `id` (`voidedStatementId`), when the LRS holds it.
    fn voided(&self, id: uuid::Uuid) -> anyhow::Result<Option<Value>> {
        let url = format!("{}/statements?voidedStatementId={id}", self.url);
        let r = self.send(|| self.request(reqwest::Method::GET, &url))?;
        match r.status() {
            StatusCode::NOT_FOUND => Ok(None),
            s if s.is_success() => Ok(Some(r.json()?)),
            s => bail!(
                "GET voided statement {id}: {s}: {}",
                r.text().unwrap_or_default()
            ),
        }
    }

    /// POSTs the JSON lines of `input` in batches of `chunk`, giving each statement without an
    /// id one first (so a retried batch is never stored twice). Returns the count.
    pub fn write(&self, input: &mut dyn BufRead, chunk: usize) -> anyhow::Result<u64> {
        let progress = Progress::new("written");
        let mut count = 0u64;
        for batch in batches(input, chunk) {
            let batch = batch?;
            let statements = batch
                .iter()
                .map(|(number, line)| {
                    let mut statement: Value = serde_json::from_str(line)
                        .with_context(|| format!("input line {number}: not JSON"))?;
                    if let Some(map) = statement.as_object_mut() {
                        map.entry("id")
                            .or_insert_with(|| Value::String(uuid::Uuid::new_v4().to_string()));
                    }
                    Ok(statement)
                })
                .collect::<anyhow::Result<Vec<Value>>>()?;
            self.post(&statements, batch[0].0)?;
            count += statements.len() as u64;
            progress.add(statements.len() as u64);
        }
        progress.finish();
        Ok(count)
    }

    fn post(&self, batch: &[Value], first_line: usize) -> anyhow::Result<()> {
        let url = format!("{}/statements", self.url);
        let version = XapiVersion::to_send(batch);
        let r = self.send(|| {
            self.request_version(reqwest::Method::POST, &url, version)
                .json(batch)
        })?;
        let status = r.status();
        if !status.is_success() {
            let body = r.text().unwrap_or_default();
            bail!(
                "POST statements (the batch starting at input line {first_line}): {status}: {body}"
            );
        }
        Ok(())
    }
}

impl Backend for Lrs {
    fn read(&self, from: &ReadFrom, out: &mut dyn Write) -> anyhow::Result<u64> {
        Lrs::read(self, from.query.as_deref(), from.more.as_deref(), out)
    }

    fn write(&self, to: &WriteTo, input: &mut dyn BufRead) -> anyhow::Result<Written> {
        Ok(Written {
            count: Lrs::write(self, input, to.chunk.max(1))?,
            place: format!("written to the LRS at {}", self.url),
        })
    }
}
