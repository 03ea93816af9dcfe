//! One loaded plugin: its compiled component pre-linked once (`InstancePre`), and limited
//! stores and instances that serve one call at a time, kept between calls while their calls
//! succeed (a failed call's instance is dropped; the next call gets a fresh one).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::SystemTime;

use serde_json::Value;

use wasmtime::component::{Component, HasSelf, Linker, ResourceTable};
use wasmtime::{Store, Trap};
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::batch::slots;
use crate::bindings::v0_2::{
    self, admission, reactor, storage, Candidate, Change, ReactionError, Rejection, Verdict,
};
use crate::bindings::{backend, transformer, validator, Level, PluginError};
use crate::engine::{PluginEngine, EPOCH_TICK};
use crate::http::HttpGrant;
use crate::limits::CallLimits;
use crate::manifest::{Limits, PluginKind, GUEST_DIR};
use crate::placement::{thread_cpu, Inline, Placement, INLINE_TICKS};
use crate::stderr::{last_words, StderrTail};

/// What a call's store holds: the plugin's identity and config, limits, and an empty WASI.
pub struct CallState {
    name: Arc<str>,
    config: Arc<BTreeMap<String, String>>,
    limits: CallLimits,
    /// The end of what the guest wrote to standard error.
    stderr: StderrTail,
    /// The last message it logged at `error` level.
    last_error: Option<String>,
    wasi: WasiCtx,
    table: ResourceTable,
    http: WasiHttpCtx,
    grant: HttpGrant,
    /// The statements lent to a v0.2 validator's or transformer's call.
    pub(crate) batch: Vec<Value>,
}

impl WasiHttpView for CallState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.grant,
        }
    }
}

impl WasiView for CallState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl CallState {
    /// Forgets what an earlier call on this instance left: what it printed and logged, a
    /// refused memory growth.
    fn begin_call(&mut self) {
        self.stderr.clear();
        self.last_error = None;
        self.limits.begin_call();
    }

    fn log(&mut self, level: Level, message: &str) {
        if matches!(level, Level::Error) {
            self.last_error = Some(message.to_string());
        }
        let plugin = &*self.name;
        match level {
            Level::Trace => tracing::trace!(plugin, "{message}"),
            Level::Debug => tracing::debug!(plugin, "{message}"),
            Level::Info => tracing::info!(plugin, "{message}"),
            Level::Warn => tracing::warn!(plugin, "{message}"),
            Level::Error => tracing::error!(plugin, "{message}"),
        }
    }
}

impl validator::xlrs::plugin::types::Host for CallState {}

impl validator::xlrs::plugin::host::Host for CallState {
    fn log(&mut self, level: Level, message: String) {
        CallState::log(self, level, &message);
    }

    fn config(&mut self, key: String) -> Option<String> {
        self.config.get(&key).cloned()
    }
}

impl admission::xlrs::plugin::types::Host for CallState {}

/// The same host functions under the v0.2 names.
impl admission::xlrs::plugin::host::Host for CallState {
    fn log(&mut self, level: admission::xlrs::plugin::types::Level, message: String) {
        use admission::xlrs::plugin::types::Level as V2;
        let level = match level {
            V2::Trace => Level::Trace,
            V2::Debug => Level::Debug,
            V2::Info => Level::Info,
            V2::Warn => Level::Warn,
            V2::Error => Level::Error,
        };
        CallState::log(self, level, &message);
    }

    fn config(&mut self, key: String) -> Option<String> {
        self.config.get(&key).cloned()
    }
}

/// How much of what a failing plugin said (standard error, or its last error log) a failure
/// quotes.
const LAST_WORDS: usize = 600;

/// Why a call did not produce a verdict or output.
#[derive(Debug, thiserror::Error)]
pub enum CallFailure {
    /// The plugin ran past its deadline.
    #[error("ran longer than its {0} ms limit")]
    Timeout(u64),
    /// The plugin needed more memory than allowed.
    #[error("exceeded its {0} MiB memory limit")]
    Memory(u64),
    /// The plugin trapped (panic, unreachable, stack overflow, …).
    #[error("trapped: {0}")]
    Trap(String),
    /// The host could not set up the call.
    #[error("could not be instantiated: {0}")]
    Setup(String),
    /// A call on the caller's thread ran past the inline budget: not a failure of the
    /// plugin; the call is made again on a plugin thread, with the plugin's whole deadline.
    #[error("ran past the inline budget")]
    OverBudget,
}

/// What the manifest (or defaults) say of a plugin to load.
pub struct PluginSpec {
    /// File or directory name.
    pub name: String,
    /// The world it implements.
    pub kind: PluginKind,
    /// Order among its kind.
    pub order: i64,
    /// Per-call limits.
    pub limits: Limits,
    /// Its `[config]` table.
    pub config: BTreeMap<String, String>,
    /// The host directory granted as `/data`, resolved and created.
    pub dir: Option<PathBuf>,
    /// Hosts granted for outbound HTTP (`host` or `host:port`).
    pub http: Vec<String>,
    /// The rules an admission plugin's waivers may name (`None`: every waivable rule).
    pub waive: Option<Vec<xlrs_xapi::validate::Rule>>,
}

/// Links the v0.2 `statements` interface for a world that does not need it: a Rust plugin
/// built beside field plugins carries the SDK's field bindings (cargo unifies features) and
/// imports it; its handles read nothing outside a field plugin's call.
fn link_statements(linker: &mut Linker<CallState>) -> wasmtime::Result<()> {
    v0_2::field_validator::xlrs::plugin::statements::add_to_linker::<_, HasSelf<_>>(linker, |s| s)
}

/// Runs `call` with the batch in the store's state, and takes it back after, whatever the
/// call did.
fn lend<T>(
    store: &mut Store<CallState>,
    batch: &mut Vec<Value>,
    call: impl FnOnce(&mut Store<CallState>) -> wasmtime::Result<T>,
) -> wasmtime::Result<T> {
    store.data_mut().batch = std::mem::take(batch);
    let out = call(store);
    *batch = std::mem::take(&mut store.data_mut().batch);
    out
}

/// The pre-linked entry points of a plugin.
pub(crate) enum Prepared {
    Validator(validator::ValidatorPre<CallState>),
    Transformer(transformer::TransformerPre<CallState>),
    FieldValidator(v0_2::field_validator::FieldValidatorPre<CallState>),
    FieldTransformer(v0_2::field_transformer::FieldTransformerPre<CallState>),
    Backend(backend::BackendPre<CallState>),
    Storage(storage::StoragePre<CallState>),
    Admission(admission::AdmissionPre<CallState>),
    Reactor(reactor::ReactorPre<CallState>),
}

/// An instantiated plugin's entry points.
pub(crate) enum Bindings {
    Validator(validator::Validator),
    Transformer(transformer::Transformer),
    FieldValidator(v0_2::field_validator::FieldValidator),
    FieldTransformer(v0_2::field_transformer::FieldTransformer),
    Backend(backend::Backend),
    Storage(storage::Storage),
    Admission(admission::Admission),
    Reactor(reactor::Reactor),
}

/// An instance of the plugin with its store, kept between calls while they succeed.
struct Live {
    store: Store<CallState>,
    bindings: Bindings,
    /// Calls it has served.
    calls: u32,
}

/// Instances of one plugin kept idle between calls: what concurrent calls use without
/// instantiating again (each holds a slot of the engine's pool and its memory).
const IDLE: usize = 2;

/// Calls an instance serves before it is retired: bounds what a guest that leaks (resource
/// handles it never drops live in the host's memory, not under its limit) can pile up, at
/// the cost of one instantiation per this many calls.
const RETIRE_AFTER: u32 = 1000;

/// A call on a plugin of another kind: the host's mistake, reported as a failure.
pub(crate) fn not_a(kind: &str) -> wasmtime::Error {
    wasmtime::Error::msg(format!("the plugin is not a {kind}"))
}

/// A loaded plugin.
pub struct PluginInstance {
    /// File or directory name.
    pub name: Arc<str>,
    /// What it does.
    pub kind: PluginKind,
    /// Order among its kind.
    pub order: i64,
    /// SHA-256 of the component bytes.
    pub hash: String,
    /// When it was loaded.
    pub loaded_at: SystemTime,
    /// Calls that failed (trap, timeout, memory, bad output).
    pub failures: AtomicU64,
    /// Calls made.
    pub calls: AtomicU64,
    /// Time spent in calls, µs.
    pub busy_micros: AtomicU64,
    /// The rules an admission plugin's waivers may name (`None`: every waivable rule).
    pub waive: Option<Vec<xlrs_xapi::validate::Rule>>,
    /// The last failure, with what the plugin said (its standard error or last error log):
    /// for the operator (`GET /plugins`, the log), never in a client's answer.
    last_failure: std::sync::Mutex<Option<(SystemTime, String)>>,
    limits: Limits,
    config: Arc<BTreeMap<String, String>>,
    dir: Option<PathBuf>,
    http: Arc<[String]>,
    engine: wasmtime::Engine,
    pub(crate) prepared: Prepared,
    /// Instances whose last call succeeded, for the next calls.
    idle: std::sync::Mutex<Vec<Live>>,
    /// Held through a backend's call: one at a time.
    serial: std::sync::Mutex<()>,
    /// Whether its calls may run on the caller's thread ([`Placement::Inline`]): a v0.2
    /// validator or transformer granted no HTTP host and no directory, until its calls run
    /// past the inline budget (see [`crate::placement`]).
    inline: Inline,
}

/// The world a component implements, from its exports.
pub fn detect_kind(component: &Component, engine: &wasmtime::Engine) -> Option<PluginKind> {
    let ty = component.component_type();
    let exports: Vec<String> = ty
        .exports(engine)
        .map(|(name, _)| name.to_string())
        .collect();
    if exports.iter().any(|e| e == "validate") {
        Some(PluginKind::Validator)
    } else if exports.iter().any(|e| e == "transform") {
        Some(PluginKind::Transformer)
    } else if exports.iter().any(|e| e == "store" || e == "records") {
        Some(PluginKind::Backend)
    } else if exports.iter().any(|e| e == "admit") {
        Some(PluginKind::Admission)
    } else if exports.iter().any(|e| e == "react") {
        Some(PluginKind::Reactor)
    } else {
        None
    }
}

/// Whether a component exports `name`.
fn exports(component: &Component, engine: &wasmtime::Engine, name: &str) -> bool {
    let ty = component.component_type();
    let found = ty.exports(engine).any(|(export, _)| export == name);
    found
}

/// The package of the contract a component's plugin world belongs to: `0.2.0` for a
/// validator or transformer reading the host's statements and for a `storage` backend, else
/// `0.1.0` (admission plugins and reactors exist only in 0.2.0).
pub fn contract(component: &Component, engine: &wasmtime::Engine) -> &'static str {
    if exports(component, engine, "records") {
        return "0.2.0";
    }
    let ty = component.component_type();
    let mut imports = ty.imports(engine).map(|(name, _)| name);
    if imports.any(|name| name.starts_with("xlrs:plugin/") && name.ends_with("@0.2.0")) {
        "0.2.0"
    } else {
        "0.1.0"
    }
}

impl PluginInstance {
    /// Links a compiled component for its world; fails when it does not implement it or
    /// imports what the sandbox does not grant.
    pub fn new(
        engine: &PluginEngine,
        spec: PluginSpec,
        component: &Component,
        hash: String,
    ) -> wasmtime::Result<Self> {
        let PluginSpec {
            name,
            kind,
            order,
            limits,
            config,
            dir,
            http,
            waive,
        } = spec;
        let mut linker = Linker::<CallState>::new(engine.engine());
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
        if !http.is_empty() {
            wasmtime_wasi_http::p2::add_only_http_to_linker_sync(&mut linker)?;
        }
        let reads_fields = contract(component, engine.engine()) == "0.2.0";
        let prepared = match kind {
            PluginKind::Validator if reads_fields => {
                v0_2::field_validator::FieldValidator::add_to_linker::<_, HasSelf<_>>(
                    &mut linker,
                    |s| s,
                )?;
                // The v0.1 host functions too, as for admission plugins.
                validator::xlrs::plugin::host::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s)?;
                Prepared::FieldValidator(v0_2::field_validator::FieldValidatorPre::new(
                    linker.instantiate_pre(component)?,
                )?)
            }
            PluginKind::Transformer if reads_fields => {
                v0_2::field_transformer::FieldTransformer::add_to_linker::<_, HasSelf<_>>(
                    &mut linker,
                    |s| s,
                )?;
                validator::xlrs::plugin::host::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s)?;
                Prepared::FieldTransformer(v0_2::field_transformer::FieldTransformerPre::new(
                    linker.instantiate_pre(component)?,
                )?)
            }
            PluginKind::Validator => {
                validator::Validator::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s)?;
                Prepared::Validator(validator::ValidatorPre::new(
                    linker.instantiate_pre(component)?,
                )?)
            }
            PluginKind::Transformer => {
                transformer::Transformer::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s)?;
                Prepared::Transformer(transformer::TransformerPre::new(
                    linker.instantiate_pre(component)?,
                )?)
            }
            PluginKind::Backend if exports(component, engine.engine(), "records") => {
                storage::Storage::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s)?;
                validator::xlrs::plugin::host::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s)?;
                link_statements(&mut linker)?;
                Prepared::Storage(storage::StoragePre::new(
                    linker.instantiate_pre(component)?,
                )?)
            }
            PluginKind::Backend => {
                backend::Backend::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s)?;
                Prepared::Backend(backend::BackendPre::new(
                    linker.instantiate_pre(component)?,
                )?)
            }
            PluginKind::Admission => {
                admission::Admission::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s)?;
                // The v0.1 host functions too: the Rust SDK's `log` and `config` call them.
                validator::xlrs::plugin::host::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s)?;
                link_statements(&mut linker)?;
                Prepared::Admission(admission::AdmissionPre::new(
                    linker.instantiate_pre(component)?,
                )?)
            }
            PluginKind::Reactor => {
                reactor::Reactor::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s)?;
                // The v0.1 host functions too, as for admission plugins.
                validator::xlrs::plugin::host::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s)?;
                link_statements(&mut linker)?;
                Prepared::Reactor(reactor::ReactorPre::new(
                    linker.instantiate_pre(component)?,
                )?)
            }
        };
        let inline = matches!(
            prepared,
            Prepared::FieldValidator(_) | Prepared::FieldTransformer(_)
        ) && http.is_empty()
            && dir.is_none();
        Ok(Self {
            name: name.as_str().into(),
            kind,
            order,
            hash,
            loaded_at: SystemTime::now(),
            failures: AtomicU64::new(0),
            calls: AtomicU64::new(0),
            busy_micros: AtomicU64::new(0),
            waive,
            last_failure: std::sync::Mutex::new(None),
            limits,
            config: Arc::new(config),
            dir,
            http: http.into(),
            engine: engine.engine().clone(),
            prepared,
            idle: std::sync::Mutex::new(Vec::new()),
            serial: std::sync::Mutex::new(()),
            inline: Inline::new(inline),
        })
    }

    fn store(&self, placement: Placement) -> Result<Store<CallState>, CallFailure> {
        let stderr = StderrTail::default();
        let mut wasi = WasiCtx::builder();
        wasi.stderr(stderr.clone());
        if let Some(dir) = &self.dir {
            wasi.preopened_dir(dir, GUEST_DIR, FsPerms::ReadWrite)
                .map_err(|e| {
                    CallFailure::Setup(format!("cannot open its directory {}: {e}", dir.display()))
                })?;
        }
        let mut store = Store::new(
            &self.engine,
            CallState {
                name: self.name.clone(),
                config: self.config.clone(),
                limits: CallLimits::new(self.limits.memory_mb),
                stderr,
                last_error: None,
                wasi: wasi.build(),
                table: ResourceTable::new(),
                http: WasiHttpCtx::new(),
                grant: HttpGrant::new(
                    self.http.clone(),
                    std::time::Duration::from_millis(self.limits.timeout_ms),
                ),
                batch: Vec::new(),
            },
        );
        store.limiter(|s| &mut s.limits);
        // Instantiating runs guest code too (its start functions): under the deadline.
        store.set_epoch_deadline(self.ticks(placement));
        store.epoch_deadline_trap();
        Ok(store)
    }

    /// A call's deadline in epoch ticks.
    fn deadline_ticks(&self) -> u64 {
        self.limits
            .timeout_ms
            .div_ceil(EPOCH_TICK.as_millis() as u64)
            .max(1)
    }

    /// The deadline of a call placed so, in epoch ticks: the inline budget (if shorter than
    /// the plugin's own deadline) on the caller's thread.
    fn ticks(&self, placement: Placement) -> u64 {
        match placement {
            Placement::Inline => INLINE_TICKS.min(self.deadline_ticks()),
            Placement::Threads => self.deadline_ticks(),
        }
    }

    /// True while its calls may run on the caller's thread (see [`Placement`]).
    pub fn runs_inline(&self) -> bool {
        self.inline.allowed()
    }

    /// Its calls that ran past the inline budget and were made again on a plugin thread.
    pub fn handed_over(&self) -> u64 {
        self.inline.handed_over.load(Ordering::Relaxed)
    }

    /// What a failed call's error was: the deadline (an epoch interrupt), memory (the limiter
    /// refused a growth), or a trap. What the guest said last is kept as its last failure and
    /// logged, not put in the failure a client sees (it may hold the plugin's internals).
    /// An interrupt at the inline budget is no failure (the call is made again on a plugin
    /// thread); `cpu_at_start` is the thread's CPU time when the call began.
    fn classify(
        &self,
        error: wasmtime::Error,
        state: &CallState,
        placement: Placement,
        cpu_at_start: Option<std::time::Duration>,
    ) -> CallFailure {
        let interrupted = matches!(error.downcast_ref::<Trap>(), Some(Trap::Interrupt));
        if interrupted && self.ticks(placement) < self.deadline_ticks() {
            let cpu = cpu_at_start
                .zip(thread_cpu())
                .map(|(a, b)| b.saturating_sub(a));
            if self.inline.overran(cpu) {
                tracing::info!(
                    plugin = &*self.name,
                    ?cpu,
                    "calls ran past the inline budget: the plugin's calls run on the plugin threads from now on"
                );
            }
            return CallFailure::OverBudget;
        }
        let failure = if interrupted {
            CallFailure::Timeout(self.limits.timeout_ms)
        } else if state.limits.memory_refused() {
            CallFailure::Memory(self.limits.memory_mb)
        } else {
            CallFailure::Trap(error.root_cause().to_string())
        };
        let said = state.stderr.last_words(LAST_WORDS).or_else(|| {
            state
                .last_error
                .as_deref()
                .and_then(|e| last_words(e, LAST_WORDS))
        });
        let kept = match &said {
            Some(said) => {
                tracing::warn!(plugin = &*self.name, %failure, "the plugin failed saying: {said}");
                format!("{failure}; it said: {said}")
            }
            None => failure.to_string(),
        };
        self.count_failure(&kept);
        failure
    }

    /// The last failure: when, and what it was (with what the plugin said).
    pub fn last_failure(&self) -> Option<(SystemTime, String)> {
        self.last_failure
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Runs a validator over a batch: Ok(Ok) accepts, Ok(Err) is its verdict.
    pub fn validate(
        &self,
        statements: &[String],
    ) -> Result<Result<(), Vec<PluginError>>, CallFailure> {
        self.run(|store, bindings| match bindings {
            Bindings::Validator(b) => b.call_validate(store, statements),
            _ => Err(not_a("validator")),
        })
    }

    /// Runs a transformer over a batch: Ok(Ok) is the new batch, Ok(Err) its refusal.
    pub fn transform(
        &self,
        statements: &[String],
    ) -> Result<Result<Vec<String>, PluginError>, CallFailure> {
        self.run(|store, bindings| match bindings {
            Bindings::Transformer(b) => b.call_transform(store, statements),
            _ => Err(not_a("transformer")),
        })
    }

    /// True for a v0.2 validator or transformer, which reads the host's parsed statements
    /// ([`PluginInstance::validate_fields`], [`PluginInstance::transform_fields`]).
    pub fn reads_fields(&self) -> bool {
        matches!(
            self.prepared,
            Prepared::FieldValidator(_) | Prepared::FieldTransformer(_)
        )
    }

    /// The contract package the plugin was built for (`0.1.0`, `0.2.0`).
    pub fn contract(&self) -> &'static str {
        match self.prepared {
            Prepared::Validator(_) | Prepared::Transformer(_) | Prepared::Backend(_) => "0.1.0",
            _ => "0.2.0",
        }
    }

    /// Runs a v0.2 validator over the batch, lent to it for the call: the statements it
    /// rejects (none accepts the batch).
    pub fn validate_fields(
        &self,
        batch: &mut Vec<Value>,
        placement: Placement,
    ) -> Result<Vec<Rejection>, CallFailure> {
        let slots = slots(batch.len());
        self.run_placed(placement, |store, bindings| match bindings {
            Bindings::FieldValidator(b) => {
                lend(store, batch, |store| b.call_validate(store, &slots))
            }
            _ => Err(not_a("v0.2 validator")),
        })
    }

    /// Runs a v0.2 transformer over the batch, lent to it for the call: one change per
    /// statement (the count is the caller's to check), or the statements it rejects.
    pub fn transform_fields(
        &self,
        batch: &mut Vec<Value>,
        placement: Placement,
    ) -> Result<Result<Vec<Change>, Vec<Rejection>>, CallFailure> {
        let slots = slots(batch.len());
        self.run_placed(placement, |store, bindings| match bindings {
            Bindings::FieldTransformer(b) => {
                lend(store, batch, |store| b.call_transform(store, &slots))
            }
            _ => Err(not_a("v0.2 transformer")),
        })
    }

    /// Asks an admission plugin about statements the host's validation refused: one verdict
    /// per candidate (the count is the caller's to check).
    pub fn admit(
        &self,
        credential: &str,
        candidates: &[Candidate],
    ) -> Result<Vec<Verdict>, CallFailure> {
        self.run(|store, bindings| match bindings {
            Bindings::Admission(b) => b.call_admit(store, credential, candidates),
            _ => Err(not_a("admission plugin")),
        })
    }

    /// Hands stored statements to a reactor: Ok(Ok) handled, with the statements it derived;
    /// Ok(Err) not now or never.
    pub fn react(
        &self,
        statements: &[String],
    ) -> Result<Result<Vec<String>, ReactionError>, CallFailure> {
        self.run(|store, bindings| match bindings {
            Bindings::Reactor(b) => b.call_react(store, statements),
            _ => Err(not_a("reactor")),
        })
    }

    /// Instantiates the plugin in `store`.
    fn instantiate(&self, store: &mut Store<CallState>) -> wasmtime::Result<Bindings> {
        Ok(match &self.prepared {
            Prepared::Validator(pre) => Bindings::Validator(pre.instantiate(store)?),
            Prepared::Transformer(pre) => Bindings::Transformer(pre.instantiate(store)?),
            Prepared::FieldValidator(pre) => Bindings::FieldValidator(pre.instantiate(store)?),
            Prepared::FieldTransformer(pre) => Bindings::FieldTransformer(pre.instantiate(store)?),
            Prepared::Backend(pre) => Bindings::Backend(pre.instantiate(store)?),
            Prepared::Storage(pre) => Bindings::Storage(pre.instantiate(store)?),
            Prepared::Admission(pre) => Bindings::Admission(pre.instantiate(store)?),
            Prepared::Reactor(pre) => Bindings::Reactor(pre.instantiate(store)?),
        })
    }

    /// Runs one call on an instance kept from an earlier call, or a new one: counts it, times
    /// it, and classifies a failure. An instance whose call failed is dropped; one whose call
    /// succeeded is kept for the next (up to [`IDLE`] instances, each for [`RETIRE_AFTER`]
    /// calls). A backend's calls run one at a time on its one instance, so a backend may keep
    /// what it loaded between calls.
    pub(crate) fn run<T>(
        &self,
        call: impl FnOnce(&mut Store<CallState>, &Bindings) -> wasmtime::Result<T>,
    ) -> Result<T, CallFailure> {
        self.run_placed(Placement::Threads, call)
    }

    /// [`PluginInstance::run`], on the caller's thread within the inline budget or with the
    /// plugin's whole deadline.
    fn run_placed<T>(
        &self,
        placement: Placement,
        call: impl FnOnce(&mut Store<CallState>, &Bindings) -> wasmtime::Result<T>,
    ) -> Result<T, CallFailure> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let started = std::time::Instant::now();
        // Timed: an inline call (for its budget), and a call on the plugin threads of a plugin
        // that left the caller's thread (for its return); the call alone, not the making of a
        // new instance.
        let timed = placement == Placement::Inline || self.inline.away();
        let _one_at_a_time = matches!(self.prepared, Prepared::Backend(_) | Prepared::Storage(_))
            .then(|| self.serial.lock().unwrap_or_else(|p| p.into_inner()));
        let out = self.live(placement, timed).and_then(|mut live| {
            let cpu_at_start = timed.then(thread_cpu).flatten();
            live.store.data_mut().begin_call();
            live.store.set_epoch_deadline(self.ticks(placement));
            live.calls += 1;
            match call(&mut live.store, &live.bindings) {
                Ok(value) => {
                    match placement {
                        Placement::Inline => self.inline.in_time(),
                        Placement::Threads => self.timed_on_threads(cpu_at_start),
                    }
                    let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
                    if idle.len() < IDLE && live.calls < RETIRE_AFTER {
                        idle.push(live);
                    }
                    Ok(value)
                }
                Err(e) => Err(self.classify(e, live.store.data(), placement, cpu_at_start)),
            }
        });
        self.busy_micros
            .fetch_add(started.elapsed().as_micros() as u64, Ordering::Relaxed);
        out
    }

    /// Counts a call on the plugin threads that began at `cpu_at_start` (thread CPU) towards
    /// its plugin's return to the caller's thread.
    fn timed_on_threads(&self, cpu_at_start: Option<std::time::Duration>) {
        let cpu = cpu_at_start
            .zip(thread_cpu())
            .map(|(a, b)| b.saturating_sub(a));
        if let Some(cpu) = cpu {
            if self.inline.on_threads(cpu) {
                tracing::info!(
                    plugin = &*self.name,
                    "calls on the plugin threads were cheap: the plugin's calls run on the request's thread again"
                );
            }
        }
    }

    /// An idle instance, or a new one.
    fn live(&self, placement: Placement, timed: bool) -> Result<Live, CallFailure> {
        let kept = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        if let Some(live) = kept {
            return Ok(live);
        }
        let cpu_at_start = timed.then(thread_cpu).flatten();
        let mut store = self.store(placement)?;
        match self.instantiate(&mut store) {
            Ok(bindings) => Ok(Live {
                store,
                bindings,
                calls: 0,
            }),
            Err(e) => Err(self.classify(e, store.data(), placement, cpu_at_start)),
        }
    }

    /// Counts a failure (of the call, or found by the host in its answer) and keeps it as
    /// the last one.
    pub fn count_failure(&self, what: &str) {
        self.failures.fetch_add(1, Ordering::Relaxed);
        *self.last_failure.lock().unwrap_or_else(|p| p.into_inner()) =
            Some((SystemTime::now(), what.to_string()));
    }
}
