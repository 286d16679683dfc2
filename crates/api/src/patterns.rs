//! The schema patterns CloudDbJob and CloudDbInstance share, so that one field means the
//! same in both CRDs (the endpoint's decides where signed requests may go).

/// A provider job or instance ID.
pub const PROVIDER_ID: &str = r"^[A-Za-z0-9][A-Za-z0-9._:-]*$";
/// A provider region.
pub const REGION: &str = r"^[a-z0-9][a-z0-9-]*$";
/// A Huawei Cloud project ID or a Google Cloud project.
pub const PROJECT_ID: &str = r"^[A-Za-z0-9_:.-]+$";
/// An Azure subscription (a GUID).
pub const SUBSCRIPTION_ID: &str =
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$";
/// An endpoint override: `https://` anywhere, plain `http://` on loopback only.
pub const ENDPOINT: &str = r"^(https://[^\s/?#]+|http://(localhost|127\.[0-9]+\.[0-9]+\.[0-9]+|\[::1\])(:[0-9]+)?)(/[^\s?#]*)?$";
/// A duration such as `15s`, `1m30s` or `2h`.
pub const DURATION: &str = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$";
