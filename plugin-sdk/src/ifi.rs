//! Inverse functional identifiers: hashing an mbox the way xAPI's `mbox_sha1sum` does (the
//! host's rule, from `xlrs-xapi`), and pseudonymising an identifier.

use sha2::{Digest, Sha256};

pub use xlrs_xapi::agent::mbox_sha1sum;

/// A salted SHA-256 (hex) of an identifier, for pseudonymisation.
pub fn salted_sha256(salt: &str, value: &str) -> String {
    hex::encode(
        Sha256::new()
            .chain_update(salt.as_bytes())
            .chain_update(value.as_bytes())
            .finalize(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mbox_sha1sum_matches_the_known_digest() {
        // sha1("mailto:test@example.com")
        assert_eq!(
            mbox_sha1sum("test@example.com"),
            "53d04bc579b8b4d082ca4a530642845e2c0bfe74"
        );
        assert_eq!(
            mbox_sha1sum("mailto:test@example.com"),
            "53d04bc579b8b4d082ca4a530642845e2c0bfe74"
        );
    }

    #[test]
    fn salted_hashes_differ_by_salt() {
        assert_ne!(salted_sha256("a", "x"), salted_sha256("b", "x"));
    }
}
