//! The wasmtime engine every plugin runs on: component model, pooling allocator (a fresh
//! instance per call is cheap), epoch interruption (a deadline per call, driven by a ticker
//! thread), and compiled artifacts cached on disk by content hash.

use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest, Sha256};
use wasmtime::component::Component;
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

/// How often the epoch advances: the granularity of call deadlines.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Most component instances alive at once across all plugins (concurrent calls).
const MAX_INSTANCES: u32 = 128;

/// The shared engine and the artifact cache directory.
pub struct PluginEngine {
    engine: Engine,
    cache_dir: PathBuf,
}

impl PluginEngine {
    /// Builds the engine and starts its epoch ticker.
    pub fn new(cache_dir: PathBuf) -> wasmtime::Result<Self> {
        let mut pool = PoolingAllocationConfig::default();
        pool.total_component_instances(MAX_INSTANCES)
            .total_core_instances(MAX_INSTANCES * 4)
            .total_memories(MAX_INSTANCES * 2)
            .total_tables(MAX_INSTANCES * 4)
            .max_memory_size(super::manifest::MAX_MEMORY_MB as usize * 1024 * 1024);
        // Address space reserved: total_memories × (MAX_MEMORY_MB + guard) ≈ 128 GiB virtual.
        let mut config = Config::new();
        let max_memory = super::manifest::MAX_MEMORY_MB * 1024 * 1024;
        config
            .wasm_component_model(true)
            .memory_reservation(max_memory)
            .memory_guard_size(64 * 1024)
            .epoch_interruption(true)
            .max_wasm_stack(1024 * 1024)
            .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        let engine = Engine::new(&config)?;
        let ticker = engine.weak();
        std::thread::Builder::new()
            .name("xlrs-plugin-epoch".into())
            .spawn(move || loop {
                std::thread::sleep(EPOCH_TICK);
                match ticker.upgrade() {
                    Some(engine) => engine.increment_epoch(),
                    None => return,
                }
            })?;
        Ok(Self { engine, cache_dir })
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Compiles a component, or loads it from the cache when these bytes were compiled before
    /// by a compatible engine. Returns the component and its content hash (hex).
    pub fn load(&self, bytes: &[u8]) -> wasmtime::Result<(Component, String)> {
        let hash = hex::encode(Sha256::digest(bytes));
        let mut engine_hash = std::hash::DefaultHasher::new();
        std::hash::Hash::hash(
            &self.engine.precompile_compatibility_hash(),
            &mut engine_hash,
        );
        let key = format!(
            "{}-{:016x}.cwasm",
            &hash[..32],
            std::hash::Hasher::finish(&engine_hash)
        );
        let cached = self.cache_dir.join(key);
        if cached.is_file() {
            // SAFETY: the file was written by `precompile_component` of an engine with the
            // same compatibility hash (part of the file name), in a directory only we write.
            match unsafe { Component::deserialize_file(&self.engine, &cached) } {
                Ok(component) => return Ok((component, hash)),
                Err(e) => tracing::warn!(error = %e, "discarding an unusable cached plugin"),
            }
        }
        let serialized = self.engine.precompile_component(bytes)?;
        // SAFETY: these bytes were produced by this engine just now.
        let component = unsafe { Component::deserialize(&self.engine, &serialized)? };
        if let Err(e) = write_atomically(&self.cache_dir, &cached, &serialized) {
            tracing::warn!(error = %e, "cannot cache a compiled plugin");
        }
        Ok((component, hash))
    }
}

fn write_atomically(dir: &Path, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(tmp, path)
}
