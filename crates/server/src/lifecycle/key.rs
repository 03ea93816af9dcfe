//! The secret that keys erasure's hashes (the audit record's subject, the pseudonym): made
//! once, kept as a server record in the store, so every process over it uses the same.

use hmac::{Hmac, Mac};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use xlrs_store::{DocumentStore, StoreError};

use crate::records;

/// The record holding the key.
#[derive(Serialize, Deserialize)]
struct KeyRecord {
    /// 32 random bytes, hex.
    key: String,
}

/// The erasure key.
pub struct ErasureKey(Vec<u8>);

impl ErasureKey {
    /// The key kept in `documents`, made when there is none yet (by one process: another that
    /// made one at the same moment reads the first).
    pub async fn load(documents: &dyn DocumentStore) -> Result<Self, StoreError> {
        let scope = records::scope("erasure", "");
        for _ in 0..3 {
            if let Some((found, _)) = records::read::<KeyRecord>(documents, &scope, "key").await? {
                let key = hex::decode(&found.key).map_err(|e| {
                    StoreError::Internal(format!("the erasure key record is malformed: {e}"))
                })?;
                return Ok(Self(key));
            }
            let mut key = [0u8; 32];
            rand::rng().fill_bytes(&mut key);
            let record = KeyRecord {
                key: hex::encode(key),
            };
            match records::write(documents, &scope, "key", &record, None).await {
                Ok(_) => return Ok(Self(key.to_vec())),
                Err(StoreError::PreconditionFailed(_)) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(StoreError::Unavailable(
            "the erasure key could not be read or made; try again".into(),
        ))
    }

    /// HMAC-SHA-256 of `purpose` and `text`, hex.
    pub fn hash(&self, purpose: &str, text: &str) -> String {
        let mut mac = match Hmac::<Sha256>::new_from_slice(&self.0) {
            Ok(mac) => mac,
            Err(_) => return String::new(),
        };
        mac.update(purpose.as_bytes());
        mac.update(&[0]);
        mac.update(text.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}
