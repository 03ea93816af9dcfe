//! The credentials file: usernames, argon2 password hashes, scopes and authorities.
//!
//! The server verifies a password once per (user, password) pair and caches the verdict by a
//! SHA-256 of the pair: argon2 is deliberately slow, and a busy LRS sees the same Basic header
//! thousands of times a second. Requests that arrive together with a pair not yet verified
//! (every client of a restarted process at once) run argon2 once: the others wait for it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::Scope;
use xlrs_xapi::version::XapiVersion;

/// Why the credentials file could not be read, written or changed.
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    /// Reading or writing the file failed.
    #[error("credentials file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid JSON of the expected shape.
    #[error("credentials file {path} is malformed: {message}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// An argument (username, password, agent) is not acceptable.
    #[error("{0}")]
    Invalid(String),
}

/// One stored credential.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Credential {
    /// Login name for HTTP Basic.
    pub username: String,
    /// argon2 PHC string of the password (or bcrypt, as imported from Ralph).
    pub hash: String,
    /// What the credential may do.
    pub scopes: Vec<Scope>,
    /// The authority Agent/Group written into statements; derived from the username when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<Value>,
}

/// The whole credentials file.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Credentials {
    /// Every credential, usernames unique.
    pub credentials: Vec<Credential>,
}

/// An authenticated caller: who it is, what it may do, and the authority for its statements.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The credential's username.
    pub username: String,
    /// Its scopes.
    pub scopes: Vec<Scope>,
    /// The authority Agent (or Group) set on statements it writes.
    pub authority: Value,
}

impl Principal {
    /// True if any of `wanted` is held, or a scope that includes it (`all` and `all/read`
    /// include every xAPI scope, never `admin`).
    pub fn allows(&self, wanted: &[Scope], write: bool) -> bool {
        let xapi = !wanted.contains(&Scope::Admin);
        self.scopes.iter().any(|s| {
            wanted.contains(s) || (xapi && (*s == Scope::All || (!write && *s == Scope::AllRead)))
        })
    }
}

/// The authority for a credential: its agent, or an account made from its username.
pub fn authority_for(credential: &Credential, home_page: &str) -> Value {
    credential.agent.clone().unwrap_or_else(|| {
        json!({
            "objectType": "Agent",
            "name": credential.username,
            "account": { "homePage": home_page, "name": credential.username }
        })
    })
}

/// Hashes a password with argon2id and a random salt.
pub fn hash_password(password: &str) -> Result<String, CredentialError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| CredentialError::Invalid(format!("cannot hash password: {e}")))
}

/// True when `password` is the one `hash` was made from: an argon2 PHC string, or a bcrypt
/// hash imported from Ralph's credentials file.
fn verify_password(password: &str, hash: &str) -> bool {
    if super::ralph::is_bcrypt(hash) {
        return bcrypt::verify(password, hash).unwrap_or(false);
    }
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

impl Credentials {
    /// Reads the file; a missing file is an empty set.
    pub fn read(path: &Path) -> Result<Self, CredentialError> {
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| CredentialError::Malformed {
                path: path.to_owned(),
                message: e.to_string(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(source) => Err(CredentialError::Io {
                path: path.to_owned(),
                source,
            }),
        }
    }

    /// Writes the file atomically (temp file + rename), readable by the owner only.
    pub fn write(&self, path: &Path) -> Result<(), CredentialError> {
        let io = |source| CredentialError::Io {
            path: path.to_owned(),
            source,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let tmp = path.with_extension("json.tmp");
        let body = serde_json::to_vec_pretty(self).map_err(|e| CredentialError::Malformed {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        write_private(&tmp, &body).map_err(io)?;
        std::fs::rename(&tmp, path).map_err(io)
    }

    /// Adds a credential, or replaces the one with the same username.
    pub fn upsert(
        &mut self,
        username: &str,
        password: &str,
        scopes: Vec<Scope>,
        agent: Option<Value>,
    ) -> Result<(), CredentialError> {
        if username.is_empty() || username.contains(':') {
            return Err(CredentialError::Invalid(
                "username must be non-empty and contain no ':'".into(),
            ));
        }
        if password.is_empty() {
            return Err(CredentialError::Invalid(
                "password must be non-empty".into(),
            ));
        }
        if scopes.is_empty() {
            return Err(CredentialError::Invalid("give at least one --scope".into()));
        }
        if let Some(agent) = &agent {
            xlrs_xapi::validate::validate_agent(agent, "agent", XapiVersion::V2_0_0)
                .map_err(|e| CredentialError::Invalid(format!("--agent is not an Agent: {e}")))?;
        }
        self.put(Credential {
            username: username.to_string(),
            hash: hash_password(password)?,
            scopes,
            agent,
        });
        Ok(())
    }

    /// Adds a credential whose password is already hashed, or replaces the one of its name.
    pub fn put(&mut self, credential: Credential) {
        match self
            .credentials
            .iter_mut()
            .find(|c| c.username == credential.username)
        {
            Some(existing) => *existing = credential,
            None => self.credentials.push(credential),
        }
    }

    /// The credential of this name.
    pub fn get(&self, username: &str) -> Option<&Credential> {
        self.credentials.iter().find(|c| c.username == username)
    }

    /// Removes a credential; false if there was none of that name.
    pub fn remove(&mut self, username: &str) -> bool {
        let before = self.credentials.len();
        self.credentials.retain(|c| c.username != username);
        before != self.credentials.len()
    }
}

/// Writes a file created with mode 0600.
pub fn write_private(path: &Path, body: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(body)?;
    file.sync_all()
}

/// The credentials file as the server sees it: reloaded when its modification time changes,
/// with verified passwords cached.
pub struct CredentialsFile {
    path: PathBuf,
    home_page: String,
    state: RwLock<Loaded>,
    /// Verifications under way, by pair: a request with the same pair waits its turn and then
    /// finds the verdict cached, instead of running argon2 (tens of MiB, tens of ms) again.
    verifying: std::sync::Mutex<HashMap<[u8; 32], Arc<tokio::sync::Mutex<()>>>>,
    /// Passwords checked against their hash (the slow path).
    hashed: std::sync::atomic::AtomicU64,
}

struct Loaded {
    modified: Option<SystemTime>,
    by_name: HashMap<String, Credential>,
    /// The credentials kept in the database store, shared by every process over it.
    database: HashMap<String, Credential>,
    /// Counts replacements of `database`: a read of the database that began before one is
    /// older than what it replaced ([`CredentialsFile::set_database_read_at`]).
    database_version: u64,
    verified: HashMap<[u8; 32], Arc<Principal>>,
    /// Counts changes: a verification that began before a change is not cached after it.
    generation: u64,
}

impl Loaded {
    /// The credentials changed: no verdict reached before counts any more.
    fn changed(&mut self) {
        self.verified.clear();
        self.generation += 1;
    }
}

/// Credentials by username.
fn by_name(credentials: Credentials) -> HashMap<String, Credential> {
    credentials
        .credentials
        .into_iter()
        .map(|c| (c.username.clone(), c))
        .collect()
}

/// Where a credential is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// This process's credentials file.
    File,
    /// The database store, shared by every process over it.
    Database,
}

impl Source {
    /// The name the admin API gives it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::File => "file",
            Self::Database => "database",
        }
    }
}

fn pair_key(username: &str, password: &str) -> [u8; 32] {
    Sha256::new()
        .chain_update(username.as_bytes())
        .chain_update([0u8])
        .chain_update(password.as_bytes())
        .finalize()
        .into()
}

impl CredentialsFile {
    /// Opens the file (it may not exist yet).
    pub fn open(path: PathBuf, home_page: String) -> Result<Self, CredentialError> {
        let file = Self {
            path,
            home_page,
            state: RwLock::new(Loaded {
                modified: None,
                by_name: HashMap::new(),
                database: HashMap::new(),
                database_version: 0,
                verified: HashMap::new(),
                generation: 0,
            }),
            verifying: std::sync::Mutex::new(HashMap::new()),
            hashed: std::sync::atomic::AtomicU64::new(0),
        };
        file.reload()?;
        Ok(file)
    }

    fn modified(&self) -> Option<SystemTime> {
        std::fs::metadata(&self.path)
            .and_then(|m| m.modified())
            .ok()
    }

    /// Reads the file again now (after this process changed it).
    pub fn reload(&self) -> Result<(), CredentialError> {
        let modified = self.modified();
        let creds = Credentials::read(&self.path)?;
        let mut state = self.state.write().unwrap_or_else(|p| p.into_inner());
        state.modified = modified;
        state.by_name = by_name(creds);
        state.changed();
        Ok(())
    }

    /// Replaces the credentials kept in the database with those this process just wrote or
    /// read.
    pub fn set_database(&self, credentials: Credentials) {
        let mut state = self.state.write().unwrap_or_else(|p| p.into_inner());
        state.database = by_name(credentials);
        state.database_version += 1;
        state.changed();
    }

    /// The version of the database's credentials held now: give it to
    /// [`CredentialsFile::set_database_read_at`] with what a read begun now returns.
    pub fn database_version(&self) -> u64 {
        self.state
            .read()
            .map(|s| s.database_version)
            .unwrap_or_else(|p| p.into_inner().database_version)
    }

    /// Replaces the credentials kept in the database with `credentials`, read from it while
    /// `version` was held, unless they were replaced since (a change this process wrote while
    /// the read was under way): such a read may predate the change, and would bring back what
    /// it removed. False when dropped; the next read has it.
    pub fn set_database_read_at(&self, version: u64, credentials: Credentials) -> bool {
        let mut state = self.state.write().unwrap_or_else(|p| p.into_inner());
        if state.database_version != version {
            return false;
        }
        state.database = by_name(credentials);
        state.database_version += 1;
        state.changed();
        true
    }

    /// Every credential this process accepts, with where it is kept, by username.
    pub fn list(&self) -> Vec<(Credential, Source)> {
        self.reload_if_changed();
        let state = self.state.read().unwrap_or_else(|p| p.into_inner());
        let mut all: Vec<(Credential, Source)> = state
            .by_name
            .values()
            .map(|c| (c.clone(), Source::File))
            .chain(
                state
                    .database
                    .values()
                    .filter(|c| !state.by_name.contains_key(&c.username))
                    .map(|c| (c.clone(), Source::Database)),
            )
            .collect();
        all.sort_by(|a, b| a.0.username.cmp(&b.0.username));
        all
    }

    /// Reloads when the file's modification time changed: one `stat` per request, so a
    /// credential added or removed with `xlrs auth` counts from the next request on.
    fn reload_if_changed(&self) {
        let modified = self.modified();
        let stale = self
            .state
            .read()
            .map(|s| s.modified != modified)
            .unwrap_or(true);
        if stale {
            if let Err(e) = self.reload() {
                tracing::error!(error = %e, "keeping the previous credentials");
            }
        }
    }

    /// The principal for a pair verified before (and unchanged since); cheap, never hashes.
    pub fn cached(&self, username: &str, password: &str) -> Option<Arc<Principal>> {
        self.reload_if_changed();
        let state = self.state.read().unwrap_or_else(|p| p.into_inner());
        state.verified.get(&pair_key(username, password)).cloned()
    }

    /// How many passwords were checked against their hash (argon2 or bcrypt) so far.
    pub fn hashed(&self) -> u64 {
        self.hashed.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Checks a username and password off the async workers (argon2 on a first sight); the
    /// principal on success. Concurrent checks of one pair run argon2 once, one after another:
    /// the later ones find the first one's verdict cached.
    pub async fn verify(
        self: &Arc<Self>,
        username: &str,
        password: &str,
    ) -> Result<Option<Arc<Principal>>, tokio::task::JoinError> {
        let key = pair_key(username, password);
        let gate = self
            .verifying
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(key)
            .or_default()
            .clone();
        let turn = gate.lock().await;
        let verdict = match self.cached(username, password) {
            Some(principal) => Ok(Some(principal)),
            None => {
                let (this, username, password) =
                    (self.clone(), username.to_string(), password.to_string());
                tokio::task::spawn_blocking(move || this.authenticate(&username, &password)).await
            }
        };
        drop(turn);
        let mut verifying = self.verifying.lock().unwrap_or_else(|p| p.into_inner());
        // The map's reference and this one: nobody else waits, so the gate goes.
        if Arc::strong_count(&gate) == 2 {
            verifying.remove(&key);
        }
        verdict
    }

    /// Checks a username and password (argon2 on a first sight: slow); the principal on success.
    pub fn authenticate(&self, username: &str, password: &str) -> Option<Arc<Principal>> {
        self.reload_if_changed();
        let key = pair_key(username, password);
        let (credential, generation) = {
            let state = self.state.read().unwrap_or_else(|p| p.into_inner());
            if let Some(p) = state.verified.get(&key) {
                return Some(p.clone());
            }
            let credential = state
                .by_name
                .get(username)
                .or_else(|| state.database.get(username))?
                .clone();
            (credential, state.generation)
        };
        self.hashed
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if !verify_password(password, &credential.hash) {
            return None;
        }
        let principal = Arc::new(Principal {
            username: credential.username.clone(),
            scopes: credential.scopes.clone(),
            authority: authority_for(&credential, &self.home_page),
        });
        let mut state = self.state.write().unwrap_or_else(|p| p.into_inner());
        if state.generation != generation {
            // Changed while argon2 ran (removed, rotated, narrowed): this answer is stale.
            drop(state);
            return self.authenticate(username, password);
        }
        if state.verified.len() > 10_000 {
            state.verified.clear();
        }
        state.verified.insert(key, principal.clone());
        Some(principal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bcrypt_hash_ralph_wrote_verifies_its_password_only() {
        // `ralph auth -u erb -p erb-password …` (Ralph 5.1, bcrypt cost 12).
        let hash = "$2b$12$Q41S6rmUhArqK3Lm2tgBuO1uVO9GvgNI/IDjwokFrt61dums8g0Ve";
        assert!(verify_password("erb-password", hash));
        assert!(!verify_password("erb-passwords", hash));
    }

    #[test]
    fn a_password_verifies_against_its_hash_only() {
        let h = hash_password("correct horse").unwrap();
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong horse", &h));
        assert!(!h.contains("correct horse"));
    }

    #[test]
    fn the_all_scope_allows_writes_and_all_read_only_reads() {
        let p = |scopes| Principal {
            username: "u".into(),
            scopes,
            authority: Value::Null,
        };
        assert!(p(vec![Scope::All]).allows(&[Scope::StatementsWrite], true));
        assert!(!p(vec![Scope::AllRead]).allows(&[Scope::StatementsWrite], true));
        assert!(p(vec![Scope::AllRead]).allows(&[Scope::StatementsRead], false));
        assert!(!p(vec![Scope::State]).allows(&[Scope::StatementsRead], false));
    }

    #[test]
    fn a_credential_without_agent_gets_an_account_authority() {
        let c = Credential {
            username: "lms".into(),
            hash: String::new(),
            scopes: vec![Scope::All],
            agent: None,
        };
        let a = authority_for(&c, "https://lrs.example.org");
        assert_eq!(a["account"]["name"], "lms");
        assert_eq!(a["account"]["homePage"], "https://lrs.example.org");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn requests_arriving_together_with_one_pair_run_argon2_once() {
        let dir = std::env::temp_dir().join(format!("xlrs-cred-{}", uuid::Uuid::new_v4()));
        let path = dir.join("credentials.json");
        let mut c = Credentials::default();
        c.upsert("lms", "password1", vec![Scope::All], None)
            .unwrap();
        std::fs::create_dir_all(&dir).unwrap();
        c.write(&path).unwrap();
        let file = Arc::new(CredentialsFile::open(path, "http://localhost".into()).unwrap());
        let checks: Vec<_> = (0..8)
            .map(|_| {
                let file = file.clone();
                tokio::spawn(async move { file.verify("lms", "password1").await })
            })
            .collect();
        for check in checks {
            assert!(check.await.unwrap().unwrap().is_some());
        }
        assert_eq!(file.hashed(), 1, "eight requests, one argon2 run");
        assert!(file.verify("lms", "wrong").await.unwrap().is_none());
        assert_eq!(file.hashed(), 2);
        assert!(
            file.verifying.lock().unwrap().is_empty(),
            "no gate is left behind"
        );
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn a_read_of_the_database_begun_before_a_change_this_process_wrote_does_not_undo_it() {
        let dir = std::env::temp_dir().join(format!("xlrs-cred-{}", uuid::Uuid::new_v4()));
        let file = CredentialsFile::open(dir.join("none.json"), "http://localhost".into()).unwrap();
        let mut before = Credentials::default();
        before
            .upsert("reader", "password1", vec![Scope::All], None)
            .unwrap();
        file.set_database(before.clone());
        // The watcher begins a read; meanwhile a change removes the credential.
        let read_at = file.database_version();
        file.set_database(Credentials::default());
        assert!(!file.set_database_read_at(read_at, before.clone()));
        assert!(
            file.list().is_empty(),
            "the removed credential stays removed"
        );
        assert!(file.authenticate("reader", "password1").is_none());
        // A read begun after the change is taken.
        assert!(file.set_database_read_at(file.database_version(), before));
        assert_eq!(file.list().len(), 1);
    }

    #[test]
    fn the_file_reloads_after_a_change() {
        let dir = std::env::temp_dir().join(format!("xlrs-cred-{}", uuid::Uuid::new_v4()));
        let path = dir.join("credentials.json");
        let file = CredentialsFile::open(path.clone(), "http://localhost".into()).unwrap();
        assert!(file.authenticate("a", "password1").is_none());
        let mut c = Credentials::default();
        c.upsert("a", "password1", vec![Scope::All], None).unwrap();
        c.write(&path).unwrap();
        // Modification times can be coarse: make sure the rewrite is seen as a change.
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert!(file.authenticate("a", "password1").is_some());
        assert!(file.authenticate("a", "password2").is_none());
        std::fs::remove_dir_all(dir).ok();
    }
}
