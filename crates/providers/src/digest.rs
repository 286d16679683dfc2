//! The one digest that says whether two credentials are the same: everything that shares a
//! call, a token or a cached answer between jobs is keyed by it, so that only jobs holding
//! identical credentials (key ID, key and token alike) ever share anything.
//!
//! It is an HMAC-SHA256 under a key drawn from the operating system's random source when
//! the process starts and never written anywhere. Without that key nobody can compute the
//! digest of a credential, even one they know, so a digest proves nothing outside the
//! process, and nobody can craft a credential that collides with another's. (`DefaultHasher`
//! would not do: its keys are fixed and public, and 64 bits are within reach of a search.)

use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::OnceLock;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// A keyed digest of a whole credential (or of anything hashable that holds one). Equal
/// only for equal inputs within one process. Its `Debug` shows nothing of it: it is never
/// logged, exported or written.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CredentialDigest([u8; 32]);

impl fmt::Debug for CredentialDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CredentialDigest(..)")
    }
}

/// The process's digest key: 256 random bits, drawn once.
fn process_key() -> &'static [u8; 32] {
    static KEY: OnceLock<[u8; 32]> = OnceLock::new();
    KEY.get_or_init(rand::random)
}

/// Feeds a `Hash` implementation into the MAC. `Hash` is prefix-free by contract (strings
/// end in a marker, sequences carry their length, enums their discriminant), so two
/// different values never feed the same bytes.
struct MacHasher(Hmac<Sha256>);

impl Hasher for MacHasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    /// Not used: the digest is taken with [`digest_of`].
    fn finish(&self) -> u64 {
        0
    }
}

/// The keyed digest of `value`.
pub fn digest_of<T: Hash + ?Sized>(value: &T) -> CredentialDigest {
    digest_with_key(process_key(), value)
}

fn digest_with_key<T: Hash + ?Sized>(key: &[u8], value: &T) -> CredentialDigest {
    let mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    let mut hasher = MacHasher(mac);
    value.hash(&mut hasher);
    CredentialDigest(hasher.0.finalize().into_bytes().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_inputs_give_equal_digests_and_any_difference_another() {
        assert_eq!(digest_of(&("a", "b")), digest_of(&("a", "b")));
        assert_ne!(digest_of(&("a", "b")), digest_of(&("a", "c")));
        // Prefix-free: moving a boundary between fields changes the digest.
        assert_ne!(digest_of(&("ab", "c")), digest_of(&("a", "bc")));
        assert_ne!(
            digest_of(&(Some("a"), "b")),
            digest_of(&(None::<&str>, "ab"))
        );
    }

    #[test]
    fn the_digest_depends_on_the_process_key() {
        let value = ("tencent", "AKIDEXAMPLE", "secret");
        assert_ne!(
            digest_with_key(b"one key", &value),
            digest_with_key(b"another key", &value),
            "without the key, a digest cannot be computed from a known credential"
        );
        assert_eq!(digest_with_key(process_key(), &value), digest_of(&value));
    }

    #[test]
    fn debug_shows_nothing_of_the_digest() {
        let digest = digest_of("secret");
        let shown = format!("{digest:?}");
        assert_eq!(shown, "CredentialDigest(..)");
        let hex = hex::encode(digest.0);
        assert!(!shown.contains(&hex[..8]));
    }
}
