//! Deterministic names: the same instance and job ID always give the same CloudDbJob name,
//! so a create that raced a failed status write finds its own job instead of a second one.

use sha2::{Digest, Sha256};

/// Kubernetes names that are also label values stay within 63 characters.
const MAX_LEN: usize = 63;
/// `-` and 8 hex digits.
const HASH_LEN: usize = 9;

/// The CloudDbJob name for `job_id` of instance `instance`: a readable prefix (instance
/// name, then the job ID lowercased with other characters as `-`) and a hash of the exact
/// pair, so IDs differing only in case or punctuation, or long ones cut short, stay
/// distinct. A DNS-1123 label (at most 63 characters), hence valid as a name too.
pub fn job_name(instance: &str, job_id: &str) -> String {
    let readable = sanitize(&format!("{instance}-{job_id}"));
    with_hash(&readable, &format!("{instance}\0{job_id}"))
}

/// The value of the `clouddb.io/instance` label: the instance's name when it fits a label
/// value (63 characters), else a cut name with a hash of the whole.
pub fn instance_label_value(instance: &str) -> String {
    if instance.len() <= MAX_LEN {
        return instance.to_string();
    }
    with_hash(&sanitize(instance), instance)
}

fn with_hash(readable: &str, hashed: &str) -> String {
    let digest = Sha256::digest(hashed.as_bytes());
    let hex: String = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
    let mut prefix: String = readable.chars().take(MAX_LEN - HASH_LEN).collect();
    while prefix.ends_with('-') {
        prefix.pop();
    }
    if prefix.is_empty() {
        // A name must start with an alphanumeric; the hash alone is one.
        return hex;
    }
    format!("{prefix}-{hex}")
}

/// Lowercase alphanumerics, everything else as single `-`, none at either end.
fn sanitize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    out
}
