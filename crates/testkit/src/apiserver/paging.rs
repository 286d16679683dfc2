//! List chunking (`limit` / `continue`), as a real API server does it: clients such as
//! kube's watcher (500 per page) and `kubectl get` (500) read big collections in pages.
//!
//! A continue token carries the list's resourceVersion and the last key returned. Later
//! pages show current objects after that key, under the first page's resourceVersion: a
//! watch started from it replays every change made while paging, so a client that lists
//! then watches (a reflector) still converges. A token older than the retained event
//! window is refused with `410 Expired`, like an etcd-compacted one.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};

use super::errors::ApiError;

/// Where the next page starts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContinueToken {
    /// The resourceVersion of the first page.
    pub rv: u64,
    /// Namespace and name of the last object returned.
    pub after: (String, String),
}

impl ContinueToken {
    /// The opaque token sent to clients.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    /// Reads a token from a `continue` query parameter.
    pub fn decode(token: &str) -> Result<Self, ApiError> {
        URL_SAFE_NO_PAD
            .decode(token)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .ok_or_else(|| ApiError::bad_request("continue key is not valid"))
    }

    /// Refuses a token whose list is older than the retained history.
    pub fn check_fresh(&self, compacted: u64) -> Result<(), ApiError> {
        if self.rv < compacted {
            return Err(ApiError::new(
                410,
                "Expired",
                "The provided continue parameter is too old to display a consistent list result. \
                 You can start a new list without the continue parameter.",
            ));
        }
        Ok(())
    }
}

/// The page size asked for: `None` (all) when `limit` is absent or zero.
pub fn parse_limit(limit: Option<&String>) -> Result<Option<usize>, ApiError> {
    match limit.map(String::as_str) {
        None | Some("") | Some("0") => Ok(None),
        Some(l) => l
            .parse::<usize>()
            .map(Some)
            .map_err(|_| ApiError::bad_request(format!("invalid limit {l:?}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_garbage_is_a_bad_request() {
        let t = ContinueToken {
            rv: 42,
            after: ("ns".into(), "job-7".into()),
        };
        assert_eq!(ContinueToken::decode(&t.encode()).unwrap(), t);
        assert_eq!(ContinueToken::decode("%%%").unwrap_err().code, 400);
        assert_eq!(ContinueToken::decode("e30").unwrap_err().code, 400, "{{}}");
    }

    #[test]
    fn old_tokens_expire_and_limits_parse() {
        let t = ContinueToken {
            rv: 10,
            after: (String::new(), "a".into()),
        };
        assert!(t.check_fresh(10).is_ok());
        assert_eq!(t.check_fresh(11).unwrap_err().code, 410);
        assert_eq!(parse_limit(None).unwrap(), None);
        assert_eq!(parse_limit(Some(&"0".into())).unwrap(), None);
        assert_eq!(parse_limit(Some(&"500".into())).unwrap(), Some(500));
        assert_eq!(parse_limit(Some(&"-1".into())).unwrap_err().code, 400);
    }
}
