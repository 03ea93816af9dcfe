//! Plugin phases: a hot swap of the transformer under batch load (how long until the new
//! version serves, and whether any request failed), and the memory each loaded plugin costs.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::Value;

use crate::phases::{self, Row};
use crate::server::Target;
use crate::statements::Generator;

/// The `/plugins` status.
async fn status(target: &Target, http: &reqwest::Client) -> anyhow::Result<Value> {
    Ok(http
        .get(format!("{}/plugins", target.base))
        .basic_auth(&target.user, Some(&target.password))
        .send()
        .await?
        .json()
        .await?)
}

/// `loaded_at` of each serving plugin, by name.
async fn loaded(target: &Target, http: &reqwest::Client) -> anyhow::Result<Vec<(String, String)>> {
    let st = status(target, http).await?;
    Ok(st["plugins"]
        .as_array()
        .map(|ps| {
            ps.iter()
                .filter(|p| p["serving"] == true)
                .map(|p| {
                    (
                        p["name"].as_str().unwrap_or_default().to_string(),
                        p["loaded_at"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default())
}

fn write_atomically(path: &Path, text: &str) -> anyhow::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

/// Batch-100 POSTs for `duration` while the `anonymize` transformer's manifest is replaced
/// `swaps` times; returns the load's row and each swap's latency (file written → new version
/// serving, ms).
pub async fn swap(
    target: &Target,
    generator: &Generator,
    clients: usize,
    duration: Duration,
    swaps: usize,
) -> anyhow::Result<(Row, Vec<f64>)> {
    let manifest = target
        .plugins_dir()
        .context("the swap phase needs a server started with --transformer")?
        .join("anonymize/plugin.toml");
    let load = phases::post_named(
        target,
        generator,
        clients,
        100,
        duration,
        "batch-100 POST during hot swaps",
    );
    let swapper = async {
        let http = reqwest::Client::new();
        let mut latencies = Vec::new();
        let pause = duration / (swaps as u32 + 1);
        for k in 0..swaps {
            tokio::time::sleep(pause).await;
            let before = loaded(target, &http).await?;
            write_atomically(&manifest, &format!("[config]\nsalt = \"bench-{k}\"\n"))?;
            let written = Instant::now();
            loop {
                let now = loaded(target, &http).await?;
                if now
                    .iter()
                    .any(|(n, at)| n == "anonymize" && !before.contains(&(n.clone(), at.clone())))
                {
                    break;
                }
                anyhow::ensure!(
                    written.elapsed() < Duration::from_secs(30),
                    "swap {k} never served"
                );
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            latencies.push(written.elapsed().as_secs_f64() * 1000.0);
        }
        Ok::<_, anyhow::Error>(latencies)
    };
    let (row, latencies) = tokio::join!(load, swapper);
    Ok((row?, latencies?))
}

/// What makes the fault validator misbehave: a statement containing this text.
const FAULT_MARKER: &str = "xlrs-bench-fault";

/// The fault phase: batch-100 POSTs for `duration` with the fault validator (`component`)
/// loaded but never triggered, then again while one more client keeps sending a statement that
/// makes it misbehave (`mode`: `loop`, `memory`, `trap`, `recursion`). Returns the rows of the
/// quiet load, the load during faults, and the faulty requests; the validator is removed after.
pub async fn fault(
    target: &Target,
    generator: &Generator,
    clients: usize,
    duration: Duration,
    component: &Path,
    mode: &str,
) -> anyhow::Result<Vec<Row>> {
    let dir = target
        .plugins_dir()
        .context("the fault phase needs a server this tool started")?
        .join("fault");
    std::fs::create_dir_all(&dir)?;
    std::fs::copy(component, dir.join("fault.wasm"))
        .with_context(|| format!("copying {}", component.display()))?;
    write_atomically(
        &dir.join("plugin.toml"),
        &format!(
            "kind = \"validator\"\n[limits]\ntimeout_ms = 500\n[config]\nmode = \"{mode}\"\nonly_with = \"{FAULT_MARKER}\"\n"
        ),
    )?;
    let http = reqwest::Client::new();
    let started = Instant::now();
    while !loaded(target, &http)
        .await?
        .iter()
        .any(|(n, _)| n == "fault")
    {
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(60),
            "the fault validator never served"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let quiet = phases::post_named(
        target,
        generator,
        clients,
        100,
        duration,
        "batch-100 POST, fault validator loaded, quiet",
    )
    .await?;
    let mut faulty = generator.statement(99, 0);
    faulty["object"]["id"] = Value::String(format!("http://example.org/{FAULT_MARKER}"));
    if let Some(map) = faulty.as_object_mut() {
        map.remove("id");
    }
    let (load_name, faults_name) = (
        format!("batch-100 POST while the validator misbehaves ({mode})"),
        format!("the misbehaving requests ({mode}, 1 client)"),
    );
    let load = phases::post_named(target, generator, clients, 100, duration, &load_name);
    let faults = phases::post_same(target, faulty.to_string(), duration, &faults_name);
    let (load, faults) = tokio::join!(load, faults);
    std::fs::remove_dir_all(&dir)?;
    Ok(vec![quiet, load?, faults?])
}

/// Loads `n` more copies of the transformer (distinct plugins), runs a few batches through
/// them, and returns the server's RSS growth per plugin (MiB). The copies are removed after.
pub async fn memory_per_plugin(
    target: &Target,
    generator: &Generator,
    component: &Path,
    n: usize,
) -> anyhow::Result<(f64, f64, f64)> {
    let dir = target
        .plugins_dir()
        .context("the plugin-memory phase needs a server started with --transformer")?;
    let http = reqwest::Client::new();
    phases::post_count(target, generator, 2, 100, 2_000).await?;
    let before = target.rss_mb().context("server RSS")?;
    for i in 0..n {
        let d = dir.join(format!("copy-{i}"));
        std::fs::create_dir_all(&d)?;
        std::fs::copy(component, d.join(format!("copy-{i}.wasm")))?;
        std::fs::write(
            d.join("plugin.toml"),
            format!(
                "kind = \"transformer\"\norder = {}\n[config]\nsalt = \"copy-{i}\"\n",
                1000 + i
            ),
        )?;
    }
    let started = Instant::now();
    while loaded(target, &http).await?.len() < n + 1 {
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(120),
            "copies never all served"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    phases::post_count(target, generator, 2, 100, 2_000).await?;
    let after = target.rss_mb().context("server RSS")?;
    for i in 0..n {
        std::fs::remove_dir_all(dir.join(format!("copy-{i}")))?;
    }
    Ok((before, after, (after - before) / n as f64))
}
