//! The server under test: one this tool starts (its own data dir, a free port) or a URL.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use anyhow::Context;

/// Where requests go.
pub struct Target {
    /// Base URL, e.g. `http://127.0.0.1:PORT`.
    pub base: String,
    /// Username.
    pub user: String,
    /// Password.
    pub password: String,
    child: Option<Child>,
    _dir: Option<tempfile::TempDir>,
}

impl Target {
    /// A server someone else runs.
    pub fn remote(url: &str, user: &str, password: &str) -> Self {
        Self {
            base: url.trim_end_matches('/').to_string(),
            user: user.into(),
            password: password.into(),
            child: None,
            _dir: None,
        }
    }

    /// Starts `bin serve` on 127.0.0.1 with a fresh data dir (and a transformer, if given).
    pub fn start(bin: &Path, password: &str, transformer: Option<&Path>) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        // Watched from the start, so plugins a phase installs are picked up.
        std::fs::create_dir_all(dir.path().join("plugins"))?;
        if let Some(component) = transformer {
            let plugins = dir.path().join("plugins/anonymize");
            std::fs::create_dir_all(&plugins)?;
            std::fs::copy(component, plugins.join("anonymize.wasm"))?;
            std::fs::write(plugins.join("plugin.toml"), "[config]\nsalt = \"bench\"\n")?;
        }
        let mut child = Command::new(bin)
            .arg("serve")
            .env("XLRS_LISTEN", "127.0.0.1:0")
            .env("XLRS_DATA_DIR", dir.path())
            .env("XLRS_ADMIN_USER", "admin")
            .env("XLRS_ADMIN_PASSWORD", password)
            .env("XLRS_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let stdout = child.stdout.take().context("server stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let base = loop {
            let line = lines
                .next()
                .context("the server exited before listening")??;
            if let Some(url) = line.strip_prefix("xlrs listening on ") {
                break url.trim().to_string();
            }
        };
        std::thread::spawn(move || lines.for_each(drop));
        Ok(Self {
            base,
            user: "admin".into(),
            password: password.into(),
            child: Some(child),
            _dir: Some(dir),
        })
    }

    /// The plugins directory of the server we started.
    pub fn plugins_dir(&self) -> Option<std::path::PathBuf> {
        self._dir.as_ref().map(|d| d.path().join("plugins"))
    }

    /// Resident memory of the server we started, in MiB.
    pub fn rss_mb(&self) -> Option<f64> {
        let pid = self.child.as_ref()?.id();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let kb: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))?
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()?;
        Some(kb / 1024.0)
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
