//! `xlrs erase`: a person's erasure through the running server's admin API (so the server's
//! forwarding queue, audit log and receipts see it as any other), printing the receipt.

use std::io::Read;

use anyhow::{bail, Context};
use serde_json::{json, Value};
use xlrs_server::settings::Settings;

/// `xlrs erase` arguments.
#[derive(Debug, clap::Args)]
pub struct EraseArgs {
    /// The person: an Agent, or a Person object with arrays of IFIs, as JSON.
    #[arg(long)]
    pub agent: String,
    /// Report what would go; change nothing.
    #[arg(long, conflicts_with = "execute", required_unless_present = "execute")]
    pub dry_run: bool,
    /// Erase for real (one of --dry-run and --execute is required).
    #[arg(long)]
    pub execute: bool,
    /// Keep the statements, with the person replaced by an opaque account.
    #[arg(long)]
    pub pseudonymize: bool,
    /// Statements that only mention the person: `pseudonymize` (default) or `remove`.
    #[arg(long, default_value = "pseudonymize", value_parser = ["pseudonymize", "remove"])]
    pub mentions: String,
    /// The statement count of the dry run, for an erasure above the server's bound.
    #[arg(long)]
    pub confirm: Option<u64>,
    /// The server (default: http:// and `listen` of the settings).
    #[arg(long)]
    pub url: Option<String>,
    /// An admin credential's username (default: `admin_user` of the settings).
    #[arg(long)]
    pub user: Option<String>,
    /// Read its password from standard input (default: `admin_password` of the settings).
    #[arg(long)]
    pub password_stdin: bool,
}

/// The server's base URL: `--url`, or the settings' listen address (a wildcard address
/// reached over the loopback).
fn base_url(settings: &Settings, url: Option<String>) -> anyhow::Result<String> {
    if let Some(url) = url {
        return Ok(url.trim_end_matches('/').to_string());
    }
    let listen = settings
        .listen
        .replace("0.0.0.0:", "127.0.0.1:")
        .replace("[::]:", "[::1]:");
    if listen.ends_with(":0") {
        bail!("the settings listen on port 0 (any free port): give the server's --url");
    }
    Ok(format!("http://{listen}"))
}

/// Runs `xlrs erase`: prints the receipt, or fails with what the server answered.
pub fn erase(settings: &Settings, args: EraseArgs) -> anyhow::Result<()> {
    let agent: Value = serde_json::from_str(&args.agent).context("--agent is not JSON")?;
    let user = args
        .user
        .or_else(|| settings.admin_user.clone())
        .context("give --user (an admin credential), or set admin_user")?;
    let password = match args.password_stdin {
        true => {
            let mut password = String::new();
            std::io::stdin().read_to_string(&mut password)?;
            password.trim_end_matches(['\r', '\n']).to_string()
        }
        false => settings
            .admin_password
            .clone()
            .context("give --password-stdin, or set admin_password")?,
    };
    let mut request = json!({
        "agent": agent,
        "dry_run": args.dry_run,
        "pseudonymize": args.pseudonymize,
        "mentions": args.mentions,
    });
    if let Some(confirm) = args.confirm {
        request["confirm"] = json!(confirm);
    }
    let url = format!("{}/admin/erasure", base_url(settings, args.url)?);
    let response = reqwest::blocking::Client::new()
        .post(&url)
        .basic_auth(user, Some(password))
        .json(&request)
        .send()
        .with_context(|| format!("POST {url}"))?;
    let status = response.status();
    let body: Value = response
        .json()
        .with_context(|| format!("{url} answered {status} without JSON"))?;
    if !status.is_success() {
        let message = body["message"].as_str().unwrap_or("no message");
        bail!("{url} answered {status}: {message}");
    }
    println!("{}", serde_json::to_string_pretty(&body)?);
    Ok(())
}
