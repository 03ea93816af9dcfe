//! `plugin.toml`: what a plugin is, in which order it runs, its limits, its configuration and
//! the capabilities granted to it (none by default).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use xlrs_xapi::validate::Rule;

use serde::Deserialize;

/// What a plugin does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PluginKind {
    /// May reject a batch.
    Validator,
    /// Rewrites a batch.
    Transformer,
    /// Stores statements (`store = "<plugin name>"`).
    Backend,
    /// Decides about statements the host's validation refused (`wit/v0.2`).
    Admission,
    /// Is called with statements after they are stored (`wit/v0.2`), from a forwarding queue.
    Reactor,
}

impl std::str::FromStr for PluginKind {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == name)
            .ok_or_else(|| {
                format!(
                    "`{name}` is not a plugin kind (validator, transformer, backend, admission, reactor)"
                )
            })
    }
}

impl PluginKind {
    /// Every kind.
    pub const ALL: [PluginKind; 5] = [
        Self::Validator,
        Self::Transformer,
        Self::Backend,
        Self::Admission,
        Self::Reactor,
    ];

    /// The kind's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Validator => "validator",
            Self::Transformer => "transformer",
            Self::Backend => "backend",
            Self::Admission => "admission",
            Self::Reactor => "reactor",
        }
    }
}

/// Resource limits of one call.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Linear memory a call may grow to, in MiB.
    pub memory_mb: u64,
    /// Wall-clock budget of one call, in milliseconds.
    pub timeout_ms: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            memory_mb: 64,
            timeout_ms: 2_000,
        }
    }
}

/// Most memory a manifest may grant one call (MiB).
pub const MAX_MEMORY_MB: u64 = 512;
/// Longest call a manifest may allow (ms).
pub const MAX_TIMEOUT_MS: u64 = 60_000;

/// A plugin's manifest. Every field is optional for a bare `<name>.wasm`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The kind; detected from the component's exports when absent.
    pub kind: Option<PluginKind>,
    /// Position among plugins of its kind (lower runs first; ties by name).
    #[serde(default)]
    pub order: i64,
    /// The component file, relative to the manifest (default `<name>.wasm`).
    pub wasm: Option<PathBuf>,
    /// The contract `xlrs plugin build` compiles a JavaScript or Python project against:
    /// `"0.1"` (the default for validators and transformers) or `"0.2"` (their field worlds;
    /// admission plugins and reactors exist only there). The server tells from the component.
    pub contract: Option<String>,
    /// Per-call limits.
    #[serde(default)]
    pub limits: Limits,
    /// Values the plugin reads with `host.config(key)`.
    #[serde(default)]
    pub config: BTreeMap<String, toml::Value>,
    /// Capabilities granted beyond the defaults (clocks and random).
    #[serde(default)]
    pub capabilities: Capabilities,
    /// What the host lets an admission plugin do.
    #[serde(default)]
    pub admission: AdmissionSettings,
}

/// The `[admission]` table: the operator's limits on an admission plugin.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdmissionSettings {
    /// The rules its waivers may name (rule names, among those the LRS can look past);
    /// absent: every such rule. A statement whose waiver needs another is refused.
    pub waive: Option<Vec<String>>,
}

impl AdmissionSettings {
    /// The rules waivers may name; `None`: every rule the LRS can look past.
    pub fn waivable(&self) -> Option<Vec<Rule>> {
        self.waive
            .as_ref()
            .map(|names| names.iter().filter_map(|n| Rule::named(n)).collect())
    }
}

/// Capabilities a manifest can grant. Nothing is granted by default.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Capabilities {
    /// A host directory the plugin may read and write, seen by the plugin as `/data`. Relative
    /// paths are under `<data dir>/plugin-data/`; the directory is created when missing.
    pub dir: Option<PathBuf>,
    /// Hosts the plugin may send HTTP requests to (`wasi:http`), as `host` (any port) or
    /// `host:port`. Empty: the plugin cannot link `wasi:http` at all.
    #[serde(default)]
    pub http: Vec<String>,
}

/// Whether `entry` of `capabilities.http` allows a request to `host` on `port`.
pub fn http_allows(entry: &str, host: &str, port: u16) -> bool {
    match entry
        .rsplit_once(':')
        .and_then(|(h, p)| Some((h, p.parse::<u16>().ok()?)))
    {
        Some((h, p)) if !h.is_empty() => h.eq_ignore_ascii_case(host) && p == port,
        _ => entry.eq_ignore_ascii_case(host),
    }
}

/// Where a granted directory appears inside the plugin.
pub const GUEST_DIR: &str = "/data";

/// Why a manifest is unusable.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// Reading the file failed.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The manifest.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// It is not valid TOML of the expected shape.
    #[error("{path}: {message}")]
    Invalid {
        /// The manifest.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

impl Manifest {
    /// Reads and checks a manifest.
    pub fn read(path: &Path) -> Result<Self, ManifestError> {
        let text = std::fs::read_to_string(path).map_err(|source| ManifestError::Io {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// Checks the manifest `text` (errors name `path`).
    pub fn parse(text: &str, path: &Path) -> Result<Self, ManifestError> {
        let manifest: Manifest = toml::from_str(text).map_err(|e| ManifestError::Invalid {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        let invalid = |message: String| ManifestError::Invalid {
            path: path.to_owned(),
            message,
        };
        if let Some(c) = manifest
            .contract
            .as_deref()
            .filter(|c| !["0.1", "0.2"].contains(c))
        {
            return Err(invalid(format!(
                "contract must be \"0.1\" or \"0.2\", not {c:?}"
            )));
        }
        if manifest.limits.memory_mb == 0 || manifest.limits.memory_mb > MAX_MEMORY_MB {
            return Err(invalid(format!(
                "limits.memory_mb must be 1..={MAX_MEMORY_MB}"
            )));
        }
        if manifest.limits.timeout_ms == 0 || manifest.limits.timeout_ms > MAX_TIMEOUT_MS {
            return Err(invalid(format!(
                "limits.timeout_ms must be 1..={MAX_TIMEOUT_MS}"
            )));
        }
        for name in manifest.admission.waive.iter().flatten() {
            if !Rule::named(name).is_some_and(Rule::waivable) {
                let waivable: Vec<&str> = Rule::ALL
                    .iter()
                    .filter(|r| r.waivable())
                    .map(|r| r.as_str())
                    .collect();
                return Err(invalid(format!(
                    "admission.waive: `{name}` is not a rule the LRS can look past (those are {})",
                    waivable.join(", ")
                )));
            }
        }
        if let Some(dir) = &manifest.capabilities.dir {
            if dir.as_os_str().is_empty()
                || dir
                    .components()
                    .any(|c| c == std::path::Component::ParentDir)
            {
                return Err(invalid(
                    "capabilities.dir must be a directory path without `..`".into(),
                ));
            }
        }
        for entry in &manifest.capabilities.http {
            let host = entry.rsplit_once(':').map_or(entry.as_str(), |(h, _)| h);
            if host.is_empty()
                || !entry
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".-:".contains(c))
            {
                return Err(invalid(format!(
                    "capabilities.http entry `{entry}` must be `host` or `host:port` (no scheme or path)"
                )));
            }
        }
        Ok(manifest)
    }

    /// The config table as strings, as `host.config` returns them.
    pub fn config_strings(&self) -> BTreeMap<String, String> {
        self.config
            .iter()
            .map(|(k, v)| {
                let s = match v {
                    toml::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (k.clone(), s)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Manifest, ManifestError> {
        let dir = std::env::temp_dir().join(format!("xlrs-manifest-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("plugin.toml");
        std::fs::write(&path, text).unwrap();
        let r = Manifest::read(&path);
        std::fs::remove_dir_all(dir).ok();
        r
    }

    #[test]
    fn a_full_manifest_parses() {
        let m = parse("kind = \"validator\"\norder = 3\n[limits]\nmemory_mb = 32\ntimeout_ms = 500\n[config]\nfields = \"a,b\"\nn = 5\n").unwrap();
        assert_eq!(m.kind, Some(PluginKind::Validator));
        assert_eq!(m.config_strings()["fields"], "a,b");
        assert_eq!(m.config_strings()["n"], "5");
    }

    #[test]
    fn the_contract_a_project_builds_for_is_0_1_or_0_2() {
        let m = parse("kind = \"validator\"\ncontract = \"0.2\"\n").unwrap();
        assert_eq!(m.contract.as_deref(), Some("0.2"));
        assert!(parse("contract = \"0.3\"\n").is_err());
    }

    #[test]
    fn an_admission_plugin_may_be_held_to_some_of_the_rules_the_lrs_can_look_past() {
        let m = parse("kind = \"admission\"\n[admission]\nwaive = [\"iri\", \"score\"]\n").unwrap();
        assert_eq!(m.admission.waivable(), Some(vec![Rule::Iri, Rule::Score]));
        assert_eq!(
            parse("kind = \"admission\"\n")
                .unwrap()
                .admission
                .waivable(),
            None
        );
        let refused = parse("[admission]\nwaive = [\"required\"]\n")
            .unwrap_err()
            .to_string();
        assert!(
            refused.contains("`required` is not a rule the LRS can look past"),
            "{refused}"
        );
        assert!(parse("[admission]\nwaive = [\"no-such-rule\"]\n").is_err());
    }

    #[test]
    fn unknown_keys_and_capabilities_are_refused() {
        assert!(parse("colour = \"red\"\n").is_err());
        assert!(parse("[capabilities]\nnetwork = true\n").is_err());
    }

    #[test]
    fn http_grants_name_a_host_and_optionally_its_port() {
        let m =
            parse("[capabilities]\nhttp = [\"127.0.0.1:8080\", \"api.example.org\"]\n").unwrap();
        assert_eq!(m.capabilities.http.len(), 2);
        assert!(http_allows("127.0.0.1:8080", "127.0.0.1", 8080));
        assert!(!http_allows("127.0.0.1:8080", "127.0.0.1", 8081));
        assert!(http_allows("api.example.org", "API.example.org", 443));
        assert!(!http_allows("api.example.org", "api.example.org.evil", 443));
        assert!(parse("[capabilities]\nhttp = [\"https://x.org/\"]\n").is_err());
    }

    #[test]
    fn a_directory_can_be_granted_but_not_above_its_root() {
        let m = parse("kind = \"backend\"\n[capabilities]\ndir = \"jsonl\"\n").unwrap();
        assert_eq!(m.capabilities.dir, Some(PathBuf::from("jsonl")));
        assert!(parse("[capabilities]\ndir = \"../etc\"\n").is_err());
    }

    #[test]
    fn limits_are_bounded() {
        assert!(parse("[limits]\nmemory_mb = 100000\n").is_err());
        assert!(parse("[limits]\ntimeout_ms = 0\n").is_err());
    }
}
