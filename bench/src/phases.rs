//! The benchmark phases and their report rows.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use rand::{Rng, SeedableRng};
use tokio::sync::Mutex;

use crate::server::Target;
use crate::statements::{actor, video_id, Generator, REGISTRATIONS, USERS, VERBS, VIDEOS};
use crate::Args;

/// One phase's figures.
pub struct Row {
    /// Phase name.
    pub phase: String,
    /// Requests completed.
    pub requests: u64,
    /// Statements written or read.
    pub statements: u64,
    /// Wall time.
    pub secs: f64,
    /// Request latency (µs).
    pub latency: Histogram<u64>,
    /// Non-2xx or failed requests.
    pub errors: u64,
    /// The first error seen.
    pub first_error: Option<String>,
    /// Server RSS after the phase (MiB).
    pub rss_mb: Option<f64>,
}

impl Row {
    /// Sets the RSS figure.
    pub fn with_rss(mut self, rss: Option<f64>) -> Self {
        self.rss_mb = rss;
        self
    }

    fn ms(&self, q: f64) -> f64 {
        self.latency.value_at_quantile(q) as f64 / 1000.0
    }

    /// Median latency, ms.
    pub fn p50(&self) -> f64 {
        self.ms(0.5)
    }

    /// 99th-percentile latency, ms.
    pub fn p99(&self) -> f64 {
        self.ms(0.99)
    }

    /// Statements per second.
    pub fn statements_per_sec(&self) -> f64 {
        self.statements as f64 / self.secs
    }

    /// One table row.
    pub fn line(&self) -> String {
        format!(
            "| {} | {} | {:.0} | {:.0} | {:.2} | {:.2} | {:.2} | {:.2} | {} | {} |",
            self.phase,
            self.requests,
            self.statements_per_sec(),
            self.requests as f64 / self.secs,
            self.p50(),
            self.ms(0.9),
            self.p99(),
            self.latency.max() as f64 / 1000.0,
            self.errors,
            self.rss_mb
                .map(|r| format!("{r:.0}"))
                .unwrap_or_else(|| "-".into()),
        ) + &self
            .first_error
            .as_ref()
            .map(|e| format!(" first error: {e}"))
            .unwrap_or_default()
    }
}

/// The Markdown table of all rows.
pub fn table(rows: &[Row]) -> String {
    let mut t = String::from(
        "| phase | requests | statements/s | requests/s | p50 ms | p90 ms | p99 ms | max ms | errors | RSS MiB |\n|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for r in rows {
        t.push_str(&r.line());
        t.push('\n');
    }
    t
}

/// A results section: machine, commit, command and table.
pub fn markdown_section(args: &Args, table: &str) -> String {
    let sh = |cmd: &str, a: &[&str]| {
        std::process::Command::new(cmd)
            .args(a)
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default()
    };
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| m.lines().next().map(str::to_string))
        .unwrap_or_default();
    // The store settings the started server inherits, so the command can be repeated.
    let store_env: Vec<String> = std::env::vars()
        .filter(|(k, _)| k == "XLRS_STORE" || k.starts_with("XLRS_CLICKHOUSE__"))
        .filter(|(k, _)| !k.ends_with("PASSWORD"))
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let mut command: Vec<String> = store_env;
    command.extend(std::env::args());
    format!(
        "\n## {} — commit {}\n\nMachine: {} cores, {}, kernel {}. Clients: {}, preload {}.\n\n`{}`\n\n{}\n",
        sh("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
        sh("git", &["describe", "--always", "--dirty"]),
        sh("nproc", &[]),
        mem.replace("MemTotal:", "memory").split_whitespace().collect::<Vec<_>>().join(" "),
        sh("uname", &["-r"]),
        args.clients,
        args.preload,
        command.join(" "),
        table
    )
}

/// A request body of `n` statements with the byte offsets of their ids, so each request gets
/// fresh ids by overwriting 36 bytes instead of serializing JSON on the measured path.
struct Template {
    body: Vec<u8>,
    id_offsets: Vec<usize>,
}

fn template(generator: &Generator, stream: u64, n: usize) -> Template {
    let mut body = Vec::new();
    let mut id_offsets = Vec::new();
    if n > 1 {
        body.push(b'[');
    }
    for i in 0..n {
        if i > 0 {
            body.push(b',');
        }
        // The id goes first, whatever order the JSON map keeps, so its offset is known.
        let mut statement = generator.statement(stream, i as u64);
        let id = statement
            .as_object_mut()
            .and_then(|m| m.remove("id"))
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_else(|| uuid::Uuid::nil().to_string());
        let rest = statement.to_string();
        body.extend_from_slice(b"{\"id\":\"");
        id_offsets.push(body.len());
        body.extend_from_slice(id.as_bytes());
        body.extend_from_slice(b"\",");
        body.extend_from_slice(&rest.as_bytes()[1..]);
    }
    if n > 1 {
        body.push(b']');
    }
    Template { body, id_offsets }
}

impl Template {
    fn fresh(&self, rng: &mut rand::rngs::StdRng) -> Vec<u8> {
        let mut body = self.body.clone();
        for &at in &self.id_offsets {
            let id = uuid::Builder::from_random_bytes(rng.random())
                .into_uuid()
                .to_string();
            body[at..at + 36].copy_from_slice(id.as_bytes());
        }
        body
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .timeout(Duration::from_secs(60))
        .build()
        .expect("HTTP client")
}

struct Shared {
    latency: Mutex<Histogram<u64>>,
    requests: AtomicU64,
    statements: AtomicU64,
    errors: AtomicU64,
    first_error: Mutex<Option<String>>,
}

impl Shared {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            latency: Mutex::new(Histogram::new_with_bounds(1, 600_000_000, 3).expect("histogram")),
            requests: AtomicU64::new(0),
            statements: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            first_error: Mutex::new(None),
        })
    }

    async fn record(
        &self,
        started: Instant,
        result: Result<reqwest::Response, reqwest::Error>,
        statements: u64,
    ) -> Option<String> {
        let micros = started.elapsed().as_micros() as u64;
        self.requests.fetch_add(1, Ordering::Relaxed);
        let _ = self.latency.lock().await.record(micros.max(1));
        match result {
            Ok(r) if r.status().is_success() => {
                self.statements.fetch_add(statements, Ordering::Relaxed);
                r.text().await.ok()
            }
            Ok(r) => {
                self.fail(format!(
                    "{} {}",
                    r.status(),
                    r.text().await.unwrap_or_default()
                ))
                .await;
                None
            }
            Err(e) => {
                self.fail(e.to_string()).await;
                None
            }
        }
    }

    async fn fail(&self, message: String) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        let mut first = self.first_error.lock().await;
        if first.is_none() {
            *first = Some(message.chars().take(300).collect());
        }
    }

    async fn row(&self, phase: &str, secs: f64) -> Row {
        Row {
            phase: phase.to_string(),
            requests: self.requests.load(Ordering::Relaxed),
            statements: self.statements.load(Ordering::Relaxed),
            secs,
            latency: self.latency.lock().await.clone(),
            errors: self.errors.load(Ordering::Relaxed),
            first_error: self.first_error.lock().await.clone(),
            rss_mb: None,
        }
    }
}

/// POSTs batches of `batch` statements from `clients` tasks for `duration`.
pub async fn post(
    target: &Target,
    generator: &Generator,
    clients: usize,
    batch: usize,
    duration: Duration,
) -> anyhow::Result<Row> {
    let phase = if batch == 1 {
        "single POST".to_string()
    } else {
        format!("batch-{batch} POST")
    };
    post_named(target, generator, clients, batch, duration, &phase).await
}

/// Like [`post`], with the row named `phase`.
pub async fn post_named(
    target: &Target,
    generator: &Generator,
    clients: usize,
    batch: usize,
    duration: Duration,
    phase: &str,
) -> anyhow::Result<Row> {
    run_posts(
        target,
        generator,
        clients,
        batch,
        Some(duration),
        None,
        phase,
    )
    .await
}

/// POSTs `total` statements in batches of `batch` (untimed: warm-up and set-up).
pub async fn post_count(
    target: &Target,
    generator: &Generator,
    clients: usize,
    batch: usize,
    total: u64,
) -> anyhow::Result<Row> {
    run_posts(
        target,
        generator,
        clients,
        batch,
        None,
        Some(total),
        "set-up",
    )
    .await
}

/// A statements POST of `body` as `user`, xAPI 2.0.0.
fn statements_post(
    http: &reqwest::Client,
    url: &str,
    user: &str,
    password: &str,
    body: impl Into<reqwest::Body>,
) -> reqwest::RequestBuilder {
    http.post(url)
        .basic_auth(user, Some(password))
        .header("X-Experience-API-Version", "2.0.0")
        .header("Content-Type", "application/json")
        .body(body)
}

async fn run_posts(
    target: &Target,
    generator: &Generator,
    clients: usize,
    batch: usize,
    duration: Option<Duration>,
    total: Option<u64>,
    phase: &str,
) -> anyhow::Result<Row> {
    let shared = Shared::new();
    let url = format!("{}/xAPI/statements", target.base);
    let started = Instant::now();
    let budget = Arc::new(AtomicU64::new(total.unwrap_or(u64::MAX)));
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (shared, url, budget) = (shared.clone(), url.clone(), budget.clone());
        let (user, password) = (target.user.clone(), target.password.clone());
        let templates: Vec<Template> = (0..8)
            .map(|t| template(generator, (c * 8 + t) as u64, batch))
            .collect();
        tasks.push(tokio::spawn(async move {
            let http = client();
            // Fresh ids in every phase and run: a seed shared across phases would re-send ids.
            let mut rng = rand::rngs::StdRng::from_os_rng();
            let mut n = 0usize;
            loop {
                if duration.is_some_and(|d| started.elapsed() >= d) {
                    break;
                }
                if budget
                    .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |b| {
                        b.checked_sub(batch as u64)
                    })
                    .is_err()
                {
                    break;
                }
                let body = templates[n % templates.len()].fresh(&mut rng);
                n += 1;
                let t = Instant::now();
                let result = statements_post(&http, &url, &user, &password, body)
                    .send()
                    .await;
                shared.record(t, result, batch as u64).await;
            }
        }));
    }
    for t in tasks {
        t.await?;
    }
    Ok(shared.row(phase, started.elapsed().as_secs_f64()).await)
}

/// One client POSTing the same body again and again for `duration` (the fault phase's
/// misbehaving traffic: each request is expected to fail, and is counted as an error).
pub async fn post_same(
    target: &Target,
    body: String,
    duration: Duration,
    phase: &str,
) -> anyhow::Result<Row> {
    let shared = Shared::new();
    let url = format!("{}/xAPI/statements", target.base);
    let http = client();
    let started = Instant::now();
    while started.elapsed() < duration {
        let t = Instant::now();
        let result = statements_post(&http, &url, &target.user, &target.password, body.clone())
            .send()
            .await;
        shared.record(t, result, 1).await;
    }
    Ok(shared.row(phase, started.elapsed().as_secs_f64()).await)
}

/// Stores statements until `preload` are stored (once per run), as a row of its own.
pub async fn preload(
    target: &Target,
    generator: &Generator,
    preload: usize,
    clients: usize,
    rows: &mut Vec<Row>,
) -> anyhow::Result<()> {
    if rows.iter().any(|r| r.phase.starts_with("preload")) || preload == 0 {
        return Ok(());
    }
    let row = run_posts(
        target,
        generator,
        clients,
        100,
        None,
        Some(preload as u64),
        &format!("preload {preload} (batch-100 POST)"),
    )
    .await?;
    let row = row.with_rss(target.rss_mb());
    println!("{}", row.line());
    rows.push(row);
    Ok(())
}

/// GET queries: by agent, verb, activity or registration, or paging through `more` links.
pub async fn get(
    target: &Target,
    generator: &Generator,
    clients: usize,
    phase: &str,
    duration: Duration,
) -> anyhow::Result<Row> {
    let shared = Shared::new();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let shared = shared.clone();
        let (base, user, password, phase) = (
            target.base.clone(),
            target.user.clone(),
            target.password.clone(),
            phase.to_string(),
        );
        let generator = *generator;
        tasks.push(tokio::spawn(async move {
            let http = client();
            let mut rng = rand::rngs::StdRng::seed_from_u64(1000 + c as u64);
            let mut next: Option<String> = None;
            while started.elapsed() < duration {
                let path = match phase.as_str() {
                    "get-agent" => format!(
                        "/xAPI/statements?limit=10&agent={}",
                        encode(&actor(rng.random_range(0..USERS)).to_string())
                    ),
                    "get-verb" => format!(
                        "/xAPI/statements?limit=10&verb={}",
                        encode(VERBS[rng.random_range(0..VERBS.len())].0)
                    ),
                    "get-activity" => format!(
                        "/xAPI/statements?limit=10&activity={}",
                        encode(&video_id(rng.random_range(0..VIDEOS)))
                    ),
                    "get-registration" => format!(
                        "/xAPI/statements?limit=10&registration={}",
                        generator.registration(rng.random_range(0..REGISTRATIONS))
                    ),
                    _ => next
                        .take()
                        .unwrap_or_else(|| "/xAPI/statements?limit=100".to_string()),
                };
                let t = Instant::now();
                let result = http
                    .get(format!("{base}{path}"))
                    .basic_auth(&user, Some(&password))
                    .header("X-Experience-API-Version", "2.0.0")
                    .send()
                    .await;
                let limit = if phase == "pages" { 100 } else { 10 };
                if let Some(body) = shared.record(t, result, limit).await {
                    if phase == "pages" {
                        next = serde_json::from_str::<serde_json::Value>(&body)
                            .ok()
                            .and_then(|v| v["more"].as_str().map(str::to_string))
                            .filter(|m| !m.is_empty());
                    }
                }
            }
        }));
    }
    for t in tasks {
        t.await?;
    }
    let name = match phase {
        "get-agent" => "GET by agent (limit 10)",
        "get-verb" => "GET by verb (limit 10)",
        "get-activity" => "GET by activity (limit 10)",
        "get-registration" => "GET by registration (limit 10)",
        _ => "GET pages via more (limit 100)",
    };
    Ok(shared.row(name, started.elapsed().as_secs_f64()).await)
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
