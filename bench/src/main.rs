//! `xlrs-bench` — a load generator for xlrs: starts a server (or targets one), runs phases with
//! concurrent clients, and reports throughput, latency percentiles, errors and server RSS.

mod phases;
mod plugin_phases;
mod server;
mod statements;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;

/// Command-line options.
#[derive(Debug, Parser, Clone)]
#[command(name = "xlrs-bench", about = "Load generator for the xlrs LRS")]
pub struct Args {
    /// The server binary to start (ignored with --url).
    #[arg(long, default_value = "target/release/xlrs")]
    pub server_bin: PathBuf,
    /// A running server's base URL instead of starting one.
    #[arg(long)]
    pub url: Option<String>,
    /// Username for --url.
    #[arg(long, default_value = "admin")]
    pub user: String,
    /// Password for --url.
    #[arg(long, default_value = "bench-password")]
    pub password: String,
    /// Concurrent clients.
    #[arg(long, default_value_t = 8)]
    pub clients: usize,
    /// Seed of the statement generator.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Statements stored before the GET phases.
    #[arg(long, default_value_t = 100_000)]
    pub preload: usize,
    /// Seconds per timed phase.
    #[arg(long, default_value_t = 10)]
    pub duration_secs: u64,
    /// Phases to run, comma-separated: batch, single, get-agent, get-verb, get-activity,
    /// get-registration, pages, fault (batch load while a validator misbehaves); with
    /// --transformer also swap (hot swaps under batch load) and plugin-memory.
    #[arg(
        long,
        default_value = "batch,single,get-agent,get-verb,get-activity,get-registration,pages"
    )]
    pub phases: String,
    /// A plugin component to load as a transformer before the phases (e.g. anonymize).
    #[arg(long)]
    pub transformer: Option<PathBuf>,
    /// The fault phase's validator component (built by scripts/build-plugins.sh).
    #[arg(long, default_value = "target/plugins/fault-validator.wasm")]
    pub fault_plugin: PathBuf,
    /// How the fault phase's validator misbehaves: loop, memory, trap or recursion.
    #[arg(long, default_value = "loop")]
    pub fault_mode: String,
    /// Print this many generated statements to stdout as JSON lines and exit (input for
    /// `xlrs write`, e.g. to time a million-statement copy).
    #[arg(long)]
    pub emit: Option<u64>,
    /// Append a Markdown section with the results to this file.
    #[arg(long)]
    pub results: Option<PathBuf>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if let Some(n) = args.emit {
        return emit(&statements::Generator::new(args.seed), n);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("tokio runtime")?;
    runtime.block_on(run(args))
}

/// Writes `n` statements as JSON lines to stdout.
fn emit(generator: &statements::Generator, n: u64) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for i in 0..n {
        serde_json::to_writer(&mut out, &generator.statement(0, i))?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}

async fn run(args: Args) -> anyhow::Result<()> {
    let server = match &args.url {
        Some(url) => server::Target::remote(url, &args.user, &args.password),
        None => server::Target::start(
            &args.server_bin,
            &args.password,
            args.transformer.as_deref(),
        )?,
    };
    let generator = statements::Generator::new(args.seed);
    let duration = Duration::from_secs(args.duration_secs);
    let mut rows = Vec::new();
    let mut notes = Vec::new();
    for phase in args
        .phases
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let new_rows = match phase {
            "batch" => vec![phases::post(&server, &generator, args.clients, 100, duration).await?],
            "single" => vec![phases::post(&server, &generator, args.clients, 1, duration).await?],
            "get-agent" | "get-verb" | "get-activity" | "get-registration" | "pages" => {
                phases::preload(&server, &generator, args.preload, args.clients, &mut rows).await?;
                vec![phases::get(&server, &generator, args.clients, phase, duration).await?]
            }
            "swap" => {
                let (row, ms) =
                    plugin_phases::swap(&server, &generator, args.clients, duration, 5).await?;
                let list: Vec<String> = ms.iter().map(|m| format!("{m:.0}")).collect();
                notes.push(format!(
                    "Hot swap (manifest rewritten, file write → new version serving), {} swaps under load: {} ms.",
                    ms.len(),
                    list.join(", ")
                ));
                vec![row]
            }
            "fault" => {
                let fault_rows = plugin_phases::fault(
                    &server,
                    &generator,
                    args.clients,
                    duration,
                    &args.fault_plugin,
                    &args.fault_mode,
                )
                .await?;
                let (quiet, during) = (&fault_rows[0], &fault_rows[1]);
                notes.push(format!(
                    "While one client's statements make a validator misbehave ({}), the other clients' batch POST latency is p50 {:.2}× and p99 {:.2}× the quiet figures, throughput {:.2}×.",
                    args.fault_mode,
                    during.p50() / quiet.p50(),
                    during.p99() / quiet.p99(),
                    during.statements_per_sec() / quiet.statements_per_sec(),
                ));
                fault_rows
            }
            "plugin-memory" => {
                let component = args
                    .transformer
                    .as_deref()
                    .context("plugin-memory needs --transformer")?;
                let n = 10;
                let (before, after, per) =
                    plugin_phases::memory_per_plugin(&server, &generator, component, n).await?;
                notes.push(format!(
                    "Memory per loaded plugin: RSS {before:.0} MiB → {after:.0} MiB with {n} more copies of the transformer loaded and called: {per:.1} MiB each."
                ));
                println!("{}", notes.last().map(String::as_str).unwrap_or_default());
                Vec::new()
            }
            other => anyhow::bail!("unknown phase `{other}`"),
        };
        for row in new_rows {
            let row = row.with_rss(server.rss_mb());
            println!("{}", row.line());
            rows.push(row);
        }
    }
    let mut table = phases::table(&rows);
    for note in &notes {
        table.push('\n');
        table.push_str(note);
        table.push('\n');
    }
    println!("\n{table}");
    if let Some(path) = &args.results {
        let section = phases::markdown_section(&args, &table);
        let mut text = std::fs::read_to_string(path).unwrap_or_default();
        text.push_str(&section);
        std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}
