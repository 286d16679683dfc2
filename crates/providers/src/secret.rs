//! [`SecretString`]: secret material whose `Debug` never prints it. Its own module so that
//! everything that holds a secret (credentials, identity exchanges, token readers) can use it
//! without depending on [`crate::credentials`].

use std::fmt;

/// A secret string whose `Debug` and `Display` are redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretString(String);

impl SecretString {
    pub fn new(value: impl Into<String>) -> Self {
        SecretString(value.into())
    }
    /// The secret itself: only for signing or an auth header, never for logs or messages.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[REDACTED]")
    }
}
