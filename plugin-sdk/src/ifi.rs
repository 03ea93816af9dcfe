//! Inverse functional identifiers: hashing an mbox the way xAPI's `mbox_sha1sum` does.

use sha2::{Digest, Sha256};

/// The `mbox_sha1sum` form of an mbox (`mailto:` added when missing): SHA-1 is what xAPI uses.
pub fn mbox_sha1sum(mbox: &str) -> String {
    let mbox = if mbox.starts_with("mailto:") {
        mbox.to_string()
    } else {
        format!("mailto:{mbox}")
    };
    sha1_hex(mbox.as_bytes())
}

/// A salted SHA-256 (hex) of an identifier, for pseudonymisation.
pub fn salted_sha256(salt: &str, value: &str) -> String {
    hex::encode(
        Sha256::new()
            .chain_update(salt.as_bytes())
            .chain_update(value.as_bytes())
            .finalize(),
    )
}

/// SHA-1 (hex), small and dependency-free.
fn sha1_hex(data: &[u8]) -> String {
    let mut h: [u32; 5] = [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0];
    let mut msg = data.to_vec();
    let bit_len = (data.len() as u64).wrapping_mul(8);
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&bit_len.to_be_bytes());
    for chunk in msg.chunks(64) {
        let mut w = [0u32; 80];
        for (i, word) in chunk.chunks(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = h;
        for (i, wi) in w.iter().enumerate() {
            let (f, k) = match i {
                0..=19 => ((b & c) | (!b & d), 0x5A827999),
                20..=39 => (b ^ c ^ d, 0x6ED9EBA1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1BBCDC),
                _ => (b ^ c ^ d, 0xCA62C1D6),
            };
            let t = a
                .rotate_left(5)
                .wrapping_add(f)
                .wrapping_add(e)
                .wrapping_add(k)
                .wrapping_add(*wi);
            e = d;
            d = c;
            c = b.rotate_left(30);
            b = a;
            a = t;
        }
        for (hv, v) in h.iter_mut().zip([a, b, c, d, e]) {
            *hv = hv.wrapping_add(v);
        }
    }
    h.iter().map(|v| format!("{v:08x}")).collect()
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
        assert_eq!(sha1_hex(b"abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
        assert_eq!(sha1_hex(b""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    }

    #[test]
    fn salted_hashes_differ_by_salt() {
        assert_ne!(salted_sha256("a", "x"), salted_sha256("b", "x"));
    }
}
