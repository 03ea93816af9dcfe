//! The wasmtime engine every plugin runs on: component model, pooling allocator (a fresh
//! instance per call is cheap), epoch interruption (a deadline per call, driven by a ticker
//! thread), and compiled artifacts cached on disk.
//!
//! A cached artifact is native code the server runs, so whoever can write the cache directory
//! could otherwise run code in the server. Each entry therefore carries an HMAC-SHA256, keyed
//! with a secret only the server's user can read, over the hash of the component it was
//! compiled from, the engine's compatibility hash and the artifact: an entry that does not
//! verify (written by someone without the key, or compiled from other bytes) is discarded and
//! the component compiled again. Servers sharing a cache share its key file.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use wasmtime::component::Component;
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

/// How often the epoch advances: the granularity of call deadlines.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Most component instances alive at once across all plugins (concurrent calls).
const MAX_INSTANCES: u32 = 128;

/// Bytes of the MAC at the start of a cache entry.
const MAC_LEN: usize = 32;

/// Compiled components on disk, each entry authenticated with the cache key.
#[derive(Clone)]
pub struct ArtifactCache {
    dir: PathBuf,
    key: [u8; 32],
}

impl std::fmt::Debug for ArtifactCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArtifactCache")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl ArtifactCache {
    /// The cache in `dir`, keyed with the secret in `key_file`, which is created (readable by
    /// this user only) when missing.
    pub fn open(dir: PathBuf, key_file: &Path) -> std::io::Result<Self> {
        let key = match std::fs::read_to_string(key_file) {
            Ok(text) => parse_key(&text).ok_or_else(|| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("{} does not hold a 64-digit hex key", key_file.display()),
                )
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => new_key(key_file)?,
            Err(e) => return Err(e),
        };
        Ok(Self { dir, key })
    }

    fn mac(&self, component_hash: &str, engine_hash: u64, artifact: &[u8]) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
        mac.update(component_hash.as_bytes());
        mac.update(&engine_hash.to_le_bytes());
        mac.update(artifact);
        mac
    }

    /// The artifact cached for a component, if an entry verifies.
    fn get(&self, path: &Path, component_hash: &str, engine_hash: u64) -> Option<Vec<u8>> {
        let mut entry = std::fs::read(path).ok()?;
        if entry.len() < MAC_LEN {
            tracing::warn!(entry = %path.display(), "discarding a truncated cached plugin");
            return None;
        }
        let artifact = entry.split_off(MAC_LEN);
        match self
            .mac(component_hash, engine_hash, &artifact)
            .verify_slice(&entry)
        {
            Ok(()) => Some(artifact),
            Err(_) => {
                tracing::warn!(entry = %path.display(), "discarding a cached plugin that does not verify with the cache key");
                None
            }
        }
    }

    /// Keeps an artifact with its MAC, written atomically.
    fn put(
        &self,
        path: &Path,
        component_hash: &str,
        engine_hash: u64,
        artifact: &[u8],
    ) -> std::io::Result<()> {
        let tag = self
            .mac(component_hash, engine_hash, artifact)
            .finalize()
            .into_bytes();
        std::fs::create_dir_all(&self.dir)?;
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(&tag)?;
        file.write_all(artifact)?;
        drop(file);
        std::fs::rename(tmp, path)
    }
}

fn parse_key(text: &str) -> Option<[u8; 32]> {
    let bytes = hex::decode(text.trim()).ok()?;
    bytes.try_into().ok()
}

/// Writes a new random key to `path`, readable and writable by this user only, and returns
/// it; when another process made one meanwhile, returns that one.
fn new_key(path: &Path) -> std::io::Result<[u8; 32]> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).map_err(|e| std::io::Error::other(e.to_string()))?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    // Written whole under another name, then linked into place: whoever reads the key file
    // reads a whole key, and of two processes making one at once, one key wins.
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    file.write_all(hex::encode(key).as_bytes())?;
    file.sync_all()?;
    drop(file);
    let linked = std::fs::hard_link(&tmp, path);
    std::fs::remove_file(&tmp)?;
    match linked {
        Ok(()) => Ok(key),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            parse_key(&std::fs::read_to_string(path)?).ok_or_else(|| {
                std::io::Error::new(std::io::ErrorKind::InvalidData, "an unreadable cache key")
            })
        }
        Err(e) => Err(e),
    }
}

/// The shared engine and the artifact cache, if any.
pub struct PluginEngine {
    engine: Engine,
    cache: Option<ArtifactCache>,
}

impl PluginEngine {
    /// Builds the engine and starts its epoch ticker; `cache: None` compiles every time.
    pub fn new(cache: Option<ArtifactCache>) -> wasmtime::Result<Self> {
        let mut pool = PoolingAllocationConfig::default();
        pool.total_component_instances(MAX_INSTANCES)
            .total_core_instances(MAX_INSTANCES * 4)
            .total_memories(MAX_INSTANCES * 2)
            .total_tables(MAX_INSTANCES * 4)
            .max_memory_size(crate::manifest::MAX_MEMORY_MB as usize * 1024 * 1024);
        // Address space reserved: total_memories × (MAX_MEMORY_MB + guard) ≈ 128 GiB virtual.
        let mut config = Config::new();
        let max_memory = crate::manifest::MAX_MEMORY_MB * 1024 * 1024;
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
        Ok(Self { engine, cache })
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Compiles a component, or loads it from the cache when these bytes were compiled before
    /// by a compatible engine and the entry verifies. Returns the component and its content
    /// hash (hex).
    pub fn load(&self, bytes: &[u8]) -> wasmtime::Result<(Component, String)> {
        let hash = hex::encode(Sha256::digest(bytes));
        let Some(cache) = &self.cache else {
            return Ok((Component::new(&self.engine, bytes)?, hash));
        };
        let mut engine_hash = std::hash::DefaultHasher::new();
        std::hash::Hash::hash(
            &self.engine.precompile_compatibility_hash(),
            &mut engine_hash,
        );
        let engine_hash = std::hash::Hasher::finish(&engine_hash);
        let path = cache
            .dir
            .join(format!("{}-{engine_hash:016x}.cwasm", &hash[..32]));
        if let Some(artifact) = cache.get(&path, &hash, engine_hash) {
            // SAFETY: the artifact verified with the cache key, which only this user holds:
            // it was written by `put` below, with `precompile_component` of an engine with the
            // same compatibility hash, from a component with this content hash.
            match unsafe { Component::deserialize(&self.engine, &artifact) } {
                Ok(component) => return Ok((component, hash)),
                Err(e) => tracing::warn!(error = %e, "discarding an unusable cached plugin"),
            }
        }
        let serialized = self.engine.precompile_component(bytes)?;
        // SAFETY: these bytes were produced by this engine just now.
        let component = unsafe { Component::deserialize(&self.engine, &serialized)? };
        if let Err(e) = cache.put(&path, &hash, engine_hash, &serialized) {
            tracing::warn!(error = %e, "cannot cache a compiled plugin");
        }
        Ok((component, hash))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A component with nothing in it: enough to compile and cache.
    const EMPTY_COMPONENT: &[u8] = b"\0asm\x0d\0\x01\0";

    fn cache_in(dir: &Path) -> ArtifactCache {
        ArtifactCache::open(dir.join("cache"), &dir.join("cache.key")).expect("opens")
    }

    fn entries(dir: &Path) -> Vec<PathBuf> {
        std::fs::read_dir(dir.join("cache"))
            .expect("the cache exists")
            .map(|e| e.expect("an entry").path())
            .collect()
    }

    #[test]
    fn the_cache_key_is_created_readable_by_this_user_only_and_kept() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("temp dir");
        let first = cache_in(dir.path());
        let mode = std::fs::metadata(dir.path().join("cache.key"))
            .expect("the key file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(cache_in(dir.path()).key, first.key, "the key is read back");
    }

    #[test]
    fn a_cached_entry_written_without_the_key_is_discarded_and_compiled_again() {
        let dir = tempfile::tempdir().expect("temp dir");
        let engine = PluginEngine::new(Some(cache_in(dir.path()))).expect("engine");
        engine.load(EMPTY_COMPONENT).expect("compiles");
        let [entry] = entries(dir.path()).try_into().expect("one entry");
        let honest = std::fs::read(&entry).expect("reads");
        // Someone who can write the cache but lacks the key plants code there: here the very
        // artifact, so only the MAC tells it apart.
        let mut planted = vec![0u8; MAC_LEN];
        planted.extend_from_slice(&honest[MAC_LEN..]);
        std::fs::write(&entry, &planted).expect("plants");
        engine.load(EMPTY_COMPONENT).expect("compiles again");
        assert_eq!(
            std::fs::read(&entry).expect("reads"),
            honest,
            "the planted entry was not loaded but replaced by one that verifies"
        );
    }

    #[test]
    fn an_entry_verifies_only_for_the_component_it_was_compiled_from() {
        let dir = tempfile::tempdir().expect("temp dir");
        let cache = cache_in(dir.path());
        let path = dir.path().join("entry.cwasm");
        cache
            .put(&path, "a".repeat(64).as_str(), 7, b"artifact")
            .expect("puts");
        assert_eq!(
            cache.get(&path, &"a".repeat(64), 7).as_deref(),
            Some(&b"artifact"[..])
        );
        assert!(
            cache.get(&path, &"b".repeat(64), 7).is_none(),
            "another component"
        );
        assert!(
            cache.get(&path, &"a".repeat(64), 8).is_none(),
            "another engine"
        );
        let other_key =
            ArtifactCache::open(dir.path().to_path_buf(), &dir.path().join("other.key"))
                .expect("opens");
        assert!(
            other_key.get(&path, &"a".repeat(64), 7).is_none(),
            "another key"
        );
    }
}
