//! The Azure cloud a credential belongs to, and the hosts, token scope and federation
//! audience that go with it. One setting ties them together: the Entra ID authority host the
//! credential names (the Secret's `authorityHost`, `AZURE_AUTHORITY_HOST`, or for workload
//! identity the installer's `--sts-endpoint azure=`). The values are azure-identity's
//! `AzureAuthorityHosts` and msrestazure's cloud definitions (`resource_manager`), which
//! `scripts/gen-endpoints.py` snapshots for the tests; the federation audiences are
//! Microsoft Entra's documented ones for federated identity credentials.

use url::Url;

/// A national cloud of Microsoft Entra ID and Azure Resource Manager.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AzureCloud {
    /// `AzureCloud`: `login.microsoftonline.com`, `management.azure.com`.
    Public,
    /// `AzureUSGovernment`: `login.microsoftonline.us`, `management.usgovcloudapi.net`.
    UsGovernment,
    /// `AzureChinaCloud` (21Vianet): `login.chinacloudapi.cn`, `management.chinacloudapi.cn`.
    China,
}

impl AzureCloud {
    pub const ALL: [AzureCloud; 3] = [
        AzureCloud::Public,
        AzureCloud::UsGovernment,
        AzureCloud::China,
    ];

    /// The cloud's name in the SDK snapshot (`crates/providers/data/sdk-endpoints.tsv`).
    pub fn name(self) -> &'static str {
        match self {
            AzureCloud::Public => "public",
            AzureCloud::UsGovernment => "usgovernment",
            AzureCloud::China => "china",
        }
    }

    /// The Entra ID authority host (`https://`, no path).
    pub fn authority_host(self) -> &'static str {
        match self {
            AzureCloud::Public => "https://login.microsoftonline.com",
            AzureCloud::UsGovernment => "https://login.microsoftonline.us",
            AzureCloud::China => "https://login.chinacloudapi.cn",
        }
    }

    /// Azure Resource Manager (`https://`, no path).
    pub fn arm_host(self) -> &'static str {
        match self {
            AzureCloud::Public => "https://management.azure.com",
            AzureCloud::UsGovernment => "https://management.usgovcloudapi.net",
            AzureCloud::China => "https://management.chinacloudapi.cn",
        }
    }

    /// [`Self::arm_host`] as a URL.
    pub fn arm_endpoint(self) -> Url {
        Url::parse(self.arm_host()).unwrap_or_else(|_| unreachable!("constant URL parses"))
    }

    /// The scope of an ARM token with the application's own permissions.
    pub fn arm_scope(self) -> String {
        format!("{}/.default", self.arm_host())
    }

    /// The audience Entra expects in a federated client assertion by default.
    pub fn federation_audience(self) -> &'static str {
        match self {
            AzureCloud::Public => "api://AzureADTokenExchange",
            AzureCloud::UsGovernment => "api://AzureADTokenExchangeUSGov",
            AzureCloud::China => "api://AzureADTokenExchangeChina",
        }
    }

    /// The cloud of an authority (a URL or a bare host; `None` is the public cloud). An
    /// authority that is no national cloud's (a private or test one) gets the public cloud's
    /// ARM host, scope and audience.
    pub fn from_authority(authority: Option<&str>) -> AzureCloud {
        let Some(raw) = authority.map(str::trim).filter(|s| !s.is_empty()) else {
            return AzureCloud::Public;
        };
        let host = Url::parse(raw)
            .ok()
            .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
            .unwrap_or_else(|| raw.trim_end_matches('/').to_ascii_lowercase());
        AzureCloud::ALL
            .into_iter()
            .find(|cloud| {
                cloud
                    .authority_host()
                    .strip_prefix("https://")
                    .is_some_and(|h| h == host)
            })
            .unwrap_or(AzureCloud::Public)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_authority_selects_the_cloud() {
        let cloud = |a| AzureCloud::from_authority(a);
        assert_eq!(cloud(None), AzureCloud::Public);
        assert_eq!(
            cloud(Some("https://login.microsoftonline.us")),
            AzureCloud::UsGovernment
        );
        assert_eq!(
            cloud(Some("https://LOGIN.MICROSOFTONLINE.US/")),
            AzureCloud::UsGovernment
        );
        assert_eq!(
            cloud(Some(
                "https://login.microsoftonline.us/tenant/oauth2/v2.0/token"
            )),
            AzureCloud::UsGovernment
        );
        assert_eq!(cloud(Some("login.chinacloudapi.cn")), AzureCloud::China);
        assert_eq!(
            cloud(Some("https://login.microsoftonline.com")),
            AzureCloud::Public
        );
        assert_eq!(cloud(Some("http://127.0.0.1:9")), AzureCloud::Public);
        assert_eq!(
            cloud(Some("https://login.microsoftonline.us.attacker.example")),
            AzureCloud::Public
        );
        assert_eq!(
            AzureCloud::UsGovernment.arm_scope(),
            "https://management.usgovcloudapi.net/.default"
        );
        assert_eq!(
            AzureCloud::China.arm_scope(),
            "https://management.chinacloudapi.cn/.default"
        );
        assert_eq!(
            AzureCloud::Public.arm_scope(),
            super::super::endpoints::ARM_SCOPE
        );
    }
}
