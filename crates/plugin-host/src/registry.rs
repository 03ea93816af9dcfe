//! The plugins directory as the server sees it: discovery (`<name>.wasm`, or
//! `<name>/plugin.toml` + wasm), loading off the request path, an immutable [`Pipeline`]
//! swapped atomically on every change, and a debounced watcher for hot reload. A plugin that
//! fails to load leaves its previous version serving, and its error is reported.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwap;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::engine::{ArtifactCache, PluginEngine};
use crate::instance::{detect_kind, PluginInstance, PluginSpec};
use crate::manifest::{Manifest, PluginKind};
use crate::pipeline::Pipeline;

/// Quiet time after a file event before reloading: editors and `cp` write in several steps.
const DEBOUNCE: Duration = Duration::from_millis(200);

/// A plugin found in the directory.
struct Candidate {
    name: String,
    wasm: PathBuf,
    manifest: Manifest,
    /// Hash of the manifest text, so a config change reloads the plugin too.
    manifest_hash: String,
}

/// The state of one plugin name.
struct Entry {
    /// The version serving now, if any loaded.
    instance: Option<Arc<PluginInstance>>,
    /// Hashes (component, manifest) of the serving version.
    fingerprint: Option<(String, String)>,
    /// Why the newest version failed to load.
    error: Option<String>,
    /// The component file.
    file: PathBuf,
}

/// Where the plugin system keeps its files.
#[derive(Debug, Clone)]
pub struct PluginPaths {
    /// The plugins directory (watched).
    pub dir: PathBuf,
    /// Compiled components, by content hash.
    pub cache: PathBuf,
    /// The secret the cache's entries are authenticated with (created when missing).
    pub cache_key: PathBuf,
    /// The root of relative directories granted by manifests (`capabilities.dir`).
    pub data: PathBuf,
}

/// Loaded plugins and the pipeline made of them.
pub struct PluginRegistry {
    dir: PathBuf,
    cache: (PathBuf, PathBuf),
    data_dir: PathBuf,
    engine: Mutex<Option<Arc<PluginEngine>>>,
    entries: Mutex<BTreeMap<String, Entry>>,
    /// Held through a whole reload, so two reloads never interleave.
    reloading: Mutex<()>,
    pipeline: ArcSwap<Pipeline>,
    watcher: Mutex<Option<notify::RecommendedWatcher>>,
}

/// Why the plugin system could not start.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The directory cannot be created or read.
    #[error("plugins directory {path}: {source}")]
    Io {
        /// The directory.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The file watcher could not start.
    #[error("cannot watch {path}: {message}")]
    Watch {
        /// The directory.
        path: PathBuf,
        /// What failed.
        message: String,
    },
}

/// What a reload made of one plugin found in the directory.
enum Outcome {
    /// Same component and manifest as the one serving.
    Unchanged,
    /// A new version, ready to serve, with its fingerprint.
    Loaded(Arc<PluginInstance>, (String, String)),
    /// Why it could not be loaded (the previous version, if any, keeps serving).
    Failed(String),
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn discover(dir: &Path) -> Vec<Result<Candidate, (String, String)>> {
    let mut names: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(entries) => entries.filter_map(|e| e.ok().map(|e| e.path())).collect(),
        Err(_) => return Vec::new(),
    };
    names.sort();
    let mut found = Vec::new();
    for path in names {
        let Some(file_name) = path
            .file_name()
            .and_then(|n| n.to_str())
            .map(str::to_string)
        else {
            continue;
        };
        if file_name.starts_with('.') {
            continue;
        }
        if path.is_file() {
            if let Some(name) = file_name.strip_suffix(".wasm") {
                found.push(Ok(Candidate {
                    name: name.to_string(),
                    wasm: path.clone(),
                    manifest: Manifest::default(),
                    manifest_hash: String::new(),
                }));
            }
            continue;
        }
        let manifest_path = path.join("plugin.toml");
        let default_wasm = path.join(format!("{file_name}.wasm"));
        if manifest_path.is_file() {
            let text = std::fs::read(&manifest_path).unwrap_or_default();
            found.push(match Manifest::read(&manifest_path) {
                Ok(manifest) => Ok(Candidate {
                    name: file_name.clone(),
                    wasm: manifest
                        .wasm
                        .as_ref()
                        .map(|w| path.join(w))
                        .unwrap_or(default_wasm),
                    manifest,
                    manifest_hash: sha256_hex(&text),
                }),
                Err(e) => Err((file_name, e.to_string())),
            });
        } else if default_wasm.is_file() {
            found.push(Ok(Candidate {
                name: file_name,
                wasm: default_wasm,
                manifest: Manifest::default(),
                manifest_hash: String::new(),
            }));
        }
    }
    found
}

impl PluginRegistry {
    /// Opens the directory (creating it), loads what is there and starts watching it.
    pub fn open(paths: PluginPaths, watch: bool) -> Result<Arc<Self>, RegistryError> {
        let PluginPaths {
            dir,
            cache,
            cache_key,
            data: data_dir,
        } = paths;
        std::fs::create_dir_all(&dir).map_err(|source| RegistryError::Io {
            path: dir.clone(),
            source,
        })?;
        let registry = Arc::new(Self {
            dir,
            cache: (cache, cache_key),
            data_dir,
            engine: Mutex::new(None),
            entries: Mutex::new(BTreeMap::new()),
            reloading: Mutex::new(()),
            pipeline: ArcSwap::from_pointee(Pipeline::default()),
            watcher: Mutex::new(None),
        });
        registry.reload();
        if watch {
            registry.watch()?;
        }
        Ok(registry)
    }

    /// The directory plugins are loaded from.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The pipeline in force now.
    pub fn pipeline(&self) -> Arc<Pipeline> {
        self.pipeline.load_full()
    }

    fn engine(&self) -> Result<Arc<PluginEngine>, String> {
        let mut slot = self.engine.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(engine) = slot.as_ref() {
            return Ok(engine.clone());
        }
        let (dir, key) = &self.cache;
        let cache = ArtifactCache::open(dir.clone(), key)
            .inspect_err(|e| {
                tracing::warn!(error = %e, key = %key.display(), "compiled plugins are not cached");
            })
            .ok();
        let engine = Arc::new(
            PluginEngine::new(cache)
                .map_err(|e| format!("cannot start the WebAssembly engine: {e:#}"))?,
        );
        *slot = Some(engine.clone());
        Ok(engine)
    }

    fn load(
        &self,
        candidate: &Candidate,
        bytes: &[u8],
        hash: String,
    ) -> Result<PluginInstance, String> {
        let engine = self.engine()?;
        let (component, hash) = engine
            .load(bytes)
            .map(|(c, _)| (c, hash))
            .map_err(|e| format!("not a loadable WebAssembly component: {e:#}"))?;
        let kind = match candidate
            .manifest
            .kind
            .or_else(|| detect_kind(&component, engine.engine()))
        {
            Some(kind) => kind,
            None => {
                return Err(
                    "exports none of `validate`, `transform`, `store` (which world?)".into(),
                )
            }
        };
        let dir = match &candidate.manifest.capabilities.dir {
            Some(granted) => {
                let path = self.data_dir.join(granted);
                std::fs::create_dir_all(&path)
                    .map_err(|e| format!("cannot create its directory {}: {e}", path.display()))?;
                Some(path)
            }
            None => None,
        };
        let spec = PluginSpec {
            name: candidate.name.clone(),
            kind,
            order: candidate.manifest.order,
            limits: candidate.manifest.limits,
            config: candidate.manifest.config_strings(),
            dir,
            http: candidate.manifest.capabilities.http.clone(),
            waive: candidate.manifest.admission.waivable(),
        };
        let granted_http = !spec.http.is_empty();
        PluginInstance::new(&engine, spec, &component, hash).map_err(|e| {
            let imports_http = component
                .component_type()
                .imports(engine.engine())
                .any(|(name, _)| name.starts_with("wasi:http/"));
            if imports_http && !granted_http {
                format!(
                    "imports wasi:http, which is not granted: list the hosts it may reach in [capabilities] http ({e:#})"
                )
            } else {
                format!(
                    "does not fit the {} world of xlrs:plugin@{}: {e:#}",
                    kind.as_str(),
                    crate::instance::contract(&component, engine.engine())
                )
            }
        })
    }

    /// Loads a plugin found in the directory unless it is the version serving (`serving`:
    /// that version's fingerprint).
    fn outcome(&self, candidate: &Candidate, serving: Option<&(String, String)>) -> Outcome {
        let bytes = match std::fs::read(&candidate.wasm) {
            Ok(bytes) => bytes,
            Err(e) => {
                return Outcome::Failed(format!("cannot read {}: {e}", candidate.wasm.display()))
            }
        };
        let fingerprint = (sha256_hex(&bytes), candidate.manifest_hash.clone());
        if serving == Some(&fingerprint) {
            return Outcome::Unchanged;
        }
        match self.load(candidate, &bytes, fingerprint.0.clone()) {
            Ok(instance) => {
                tracing::info!(plugin = %candidate.name, kind = instance.kind.as_str(), hash = %&fingerprint.0[..12], "plugin loaded");
                Outcome::Loaded(Arc::new(instance), fingerprint)
            }
            Err(error) => {
                tracing::error!(plugin = %candidate.name, %error, "plugin failed to load; previous version (if any) keeps serving");
                Outcome::Failed(error)
            }
        }
    }

    /// Rescans the directory, loads what changed, and swaps in the new pipeline. Components
    /// compile without holding the entries, so `/plugins`, backends and the serving pipeline
    /// are never blocked by a slow compile (a JS or Python engine takes seconds).
    pub fn reload(&self) {
        let _one_reload_at_a_time = self.reloading.lock().unwrap_or_else(|p| p.into_inner());
        let loaded: HashMap<String, (String, String)> = {
            let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
            entries
                .iter()
                .filter(|(_, e)| e.instance.is_some())
                .filter_map(|(name, e)| Some((name.clone(), e.fingerprint.clone()?)))
                .collect()
        };
        let outcomes: Vec<(String, PathBuf, Outcome)> = discover(&self.dir)
            .into_iter()
            .map(|found| match found {
                Err((name, error)) => {
                    tracing::error!(plugin = %name, %error, "plugin manifest is invalid; previous version (if any) keeps serving");
                    let file = self.dir.join(&name);
                    (name, file, Outcome::Failed(error))
                }
                Ok(candidate) => {
                    let outcome = self.outcome(&candidate, loaded.get(&candidate.name));
                    (candidate.name, candidate.wasm, outcome)
                }
            })
            .collect();
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let mut seen = Vec::new();
        for (name, file, outcome) in outcomes {
            seen.push(name.clone());
            let entry = entries.entry(name).or_insert_with(|| Entry {
                instance: None,
                fingerprint: None,
                error: None,
                file: file.clone(),
            });
            match outcome {
                Outcome::Unchanged => {}
                Outcome::Failed(error) => entry.error = Some(error),
                Outcome::Loaded(instance, fingerprint) => {
                    entry.instance = Some(instance);
                    entry.fingerprint = Some(fingerprint);
                    entry.error = None;
                    entry.file = file;
                }
            }
        }
        entries.retain(|name, _| {
            let keep = seen.contains(name);
            if !keep {
                tracing::info!(plugin = %name, "plugin removed");
            }
            keep
        });
        let mut pipeline = Pipeline::default();
        for entry in entries.values() {
            if let Some(instance) = &entry.instance {
                match instance.kind {
                    PluginKind::Validator => pipeline.validators.push(instance.clone()),
                    PluginKind::Transformer => pipeline.transformers.push(instance.clone()),
                    PluginKind::Admission => pipeline.admission.push(instance.clone()),
                    PluginKind::Backend | PluginKind::Reactor => {}
                }
            }
        }
        for list in [
            &mut pipeline.validators,
            &mut pipeline.transformers,
            &mut pipeline.admission,
        ] {
            list.sort_by(|a, b| a.order.cmp(&b.order).then_with(|| a.name.cmp(&b.name)));
        }
        self.pipeline.store(Arc::new(pipeline));
    }

    /// The backend plugin of this name as it serves now, or why there is none.
    pub fn backend(&self, name: &str) -> Result<Arc<PluginInstance>, String> {
        self.of_kind(name, PluginKind::Backend)
    }

    /// The reactor plugin of this name as it serves now, or why there is none.
    pub fn reactor(&self, name: &str) -> Result<Arc<PluginInstance>, String> {
        self.of_kind(name, PluginKind::Reactor)
    }

    /// The plugin of this name and kind as it serves now, or why there is none.
    fn of_kind(&self, name: &str, kind: PluginKind) -> Result<Arc<PluginInstance>, String> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let Some(entry) = entries.get(name) else {
            return Err(format!(
                "no plugin `{name}` in {} (neither {name}.wasm nor {name}/plugin.toml)",
                self.dir.display()
            ));
        };
        match &entry.instance {
            Some(i) if i.kind == kind => Ok(i.clone()),
            Some(i) => Err(format!(
                "plugin `{name}` is a {}, not a {}",
                i.kind.as_str(),
                kind.as_str()
            )),
            None => Err(format!(
                "plugin `{name}` is not loaded: {}",
                entry.error.as_deref().unwrap_or("unknown error")
            )),
        }
    }

    fn watch(self: &Arc<Self>) -> Result<(), RegistryError> {
        use notify::Watcher;
        let (tx, rx) = std::sync::mpsc::channel();
        let mut watcher = notify::recommended_watcher(move |event| {
            let _ = tx.send(event);
        })
        .map_err(|e| RegistryError::Watch {
            path: self.dir.clone(),
            message: e.to_string(),
        })?;
        watcher
            .watch(&self.dir, notify::RecursiveMode::Recursive)
            .map_err(|e| RegistryError::Watch {
                path: self.dir.clone(),
                message: e.to_string(),
            })?;
        *self.watcher.lock().unwrap_or_else(|p| p.into_inner()) = Some(watcher);
        let registry = Arc::downgrade(self);
        std::thread::Builder::new()
            .name("xlrs-plugin-watch".into())
            .spawn(move || {
                while rx.recv().is_ok() {
                    // Debounce: wait until the directory is quiet.
                    while rx.recv_timeout(DEBOUNCE).is_ok() {}
                    match registry.upgrade() {
                        Some(r) => r.reload(),
                        None => return,
                    }
                }
            })
            .map_err(|e| RegistryError::Watch {
                path: self.dir.clone(),
                message: e.to_string(),
            })?;
        Ok(())
    }

    /// Prometheus lines for every serving plugin: calls, failures, time in calls.
    pub fn metrics(&self) -> String {
        use std::fmt::Write;
        use std::sync::atomic::Ordering::Relaxed;
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let serving: Vec<&Arc<PluginInstance>> = entries
            .values()
            .filter_map(|e| e.instance.as_ref())
            .collect();
        let mut out = String::new();
        for (name, help, value) in [
            (
                "xlrs_plugin_calls_total",
                "Plugin calls (one per batch).",
                &(|i: &PluginInstance| i.calls.load(Relaxed) as f64)
                    as &dyn Fn(&PluginInstance) -> f64,
            ),
            (
                "xlrs_plugin_failures_total",
                "Plugin calls that failed (trap, timeout, memory, bad output).",
                &|i: &PluginInstance| i.failures.load(Relaxed) as f64,
            ),
            (
                "xlrs_plugin_call_seconds_total",
                "Time spent in plugin calls.",
                &|i: &PluginInstance| i.busy_micros.load(Relaxed) as f64 / 1e6,
            ),
        ] {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} counter");
            for i in &serving {
                let _ = writeln!(
                    out,
                    "{name}{{plugin=\"{}\",kind=\"{}\"}} {}",
                    i.name.replace('\\', "\\\\").replace('"', "\\\""),
                    i.kind.as_str(),
                    value(i)
                );
            }
        }
        out
    }

    /// What `GET /plugins` shows: each plugin's kind, hash, load time, counters and error.
    pub fn status(&self) -> Value {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let plugins: Vec<Value> = entries
            .iter()
            .map(|(name, e)| {
                let i = e.instance.as_ref();
                json!({
                    "name": name,
                    "kind": i.map(|i| i.kind.as_str()),
                    "wit": i.map(|i| format!("xlrs:plugin@{}", i.contract())),
                    "order": i.map(|i| i.order),
                    "hash": i.map(|i| i.hash.clone()),
                    "loaded_at": i.map(|i| xlrs_xapi::time::format_micros(micros(i.loaded_at))),
                    "calls": i.map(|i| i.calls.load(std::sync::atomic::Ordering::Relaxed)),
                    "failures": i.map(|i| i.failures.load(std::sync::atomic::Ordering::Relaxed)),
                    "busy_seconds": i.map(|i| i.busy_micros.load(std::sync::atomic::Ordering::Relaxed) as f64 / 1e6),
                    "inline": i.map(|i| i.runs_inline()),
                    "handed_over": i.map(|i| i.handed_over()),
                    "waive": i.and_then(|i| i.waive.as_ref()).map(|rules| rules.iter().map(|r| r.as_str()).collect::<Vec<_>>()),
                    "last_failure": i.and_then(|i| i.last_failure()).map(|(at, message)| json!({
                        "at": xlrs_xapi::time::format_micros(micros(at)),
                        "message": message,
                    })),
                    "file": e.file.display().to_string(),
                    "serving": i.is_some(),
                    "last_error": e.error,
                })
            })
            .collect();
        json!({ "wit": ["xlrs:plugin@0.1.0", "xlrs:plugin@0.2.0"], "dir": self.dir.display().to_string(), "plugins": plugins })
    }
}

fn micros(t: SystemTime) -> i64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}
