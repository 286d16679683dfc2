//! Reading credentials from Secrets and the environment; redaction.
use super::*;

fn secret_ref() -> CredentialsSecretRef {
    CredentialsSecretRef {
        name: "creds".into(),
        secret_id_key: None,
        secret_key_key: None,
        session_token_key: None,
        ak_key: None,
        sk_key: None,
        token_key: None,
        credentials_json_key: None,
    }
}

fn data(pairs: &[(&str, &str)]) -> BTreeMap<String, Vec<u8>> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
        .collect()
}

#[test]
fn debug_is_redacted() {
    let creds = Credentials::Tencent {
        secret_id: "AKIDexample".into(),
        secret_key: SecretString::new("super-secret-value"),
        token: Some(SecretString::new("session-secret")),
    };
    let shown = format!("{creds:?}");
    assert!(!shown.contains("super-secret-value"), "{shown}");
    assert!(!shown.contains("session-secret"), "{shown}");
    assert!(shown.contains("[REDACTED]"));
}

#[test]
fn reads_tencent_keys_with_overrides() {
    let mut r = secret_ref();
    r.secret_id_key = Some("id".into());
    let c = Credentials::from_secret_data(
        ProviderKind::Tencent,
        &r,
        &data(&[("id", "AKID1"), ("secretKey", "k\n")]),
    )
    .unwrap();
    assert_eq!(
        c,
        Credentials::Tencent {
            secret_id: "AKID1".into(),
            secret_key: SecretString::new("k"),
            token: None
        }
    );
}

#[test]
fn missing_key_names_the_key_not_the_values() {
    let err = Credentials::from_secret_data(
        ProviderKind::TencentLegacy,
        &secret_ref(),
        &data(&[("secretId", "AKID1")]),
    )
    .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("\"secretKey\""), "{msg}");
    assert!(!msg.contains("AKID1"), "{msg}");
}

#[test]
fn huawei_prefers_token_then_aksk() {
    let token = Credentials::from_secret_data(
        ProviderKind::Huawei,
        &secret_ref(),
        &data(&[("token", "tok"), ("ak", "a"), ("sk", "s")]),
    )
    .unwrap();
    assert!(matches!(token, Credentials::HuaweiToken { .. }));
    let aksk = Credentials::from_secret_data(
        ProviderKind::Huawei,
        &secret_ref(),
        &data(&[("ak", "a"), ("sk", "s")]),
    )
    .unwrap();
    assert!(matches!(aksk, Credentials::HuaweiAkSk { .. }));
    assert!(
        Credentials::from_secret_data(ProviderKind::Huawei, &secret_ref(), &data(&[])).is_err()
    );
}

#[test]
fn alibaba_and_aws_keys_default_to_their_sdk_names() {
    let alibaba = Credentials::from_secret_data(
        ProviderKind::Alibaba,
        &secret_ref(),
        &data(&[
            ("accessKeyId", "LTAI1"),
            ("accessKeySecret", "s1"),
            ("securityToken", "t1"),
        ]),
    )
    .unwrap();
    assert_eq!(
        alibaba,
        Credentials::Alibaba {
            access_key_id: "LTAI1".into(),
            access_key_secret: SecretString::new("s1"),
            security_token: Some(SecretString::new("t1")),
        }
    );
    assert_eq!(alibaba.secrets(), ["s1", "t1"]);
    assert_eq!(alibaba.identity(), "LTAI1");
    let aws = Credentials::from_secret_data(
        ProviderKind::Aws,
        &secret_ref(),
        &data(&[("accessKeyId", "AKIA1"), ("secretAccessKey", "s2")]),
    )
    .unwrap();
    assert_eq!(
        aws,
        Credentials::Aws {
            access_key_id: "AKIA1".into(),
            secret_access_key: SecretString::new("s2"),
            session_token: None,
        }
    );
    assert_eq!(aws.secrets(), ["s2"]);
    // Alibaba's secret key name is not AWS's: the message names the one expected.
    let err = Credentials::from_secret_data(
        ProviderKind::Aws,
        &secret_ref(),
        &data(&[("accessKeyId", "AKIA1"), ("accessKeySecret", "s1")]),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("\"secretAccessKey\""), "{err}");
    assert!(!err.contains("s1"), "{err}");
}

#[test]
fn a_bare_token_identity_is_not_the_token() {
    let token = Credentials::HuaweiToken {
        token: SecretString::new("iam-token-value"),
    };
    assert!(!token.identity().contains("iam-token-value"));
    assert_eq!(token.secrets(), ["iam-token-value"]);
}

#[test]
fn env_credentials() {
    let env = |k: &str| match k {
        "HUAWEICLOUD_SDK_AK" => Some("ak".to_string()),
        "HUAWEICLOUD_SDK_SK" => Some("sk".to_string()),
        _ => None,
    };
    assert!(matches!(
        Credentials::from_env(ProviderKind::Huawei, env),
        Ok(Credentials::HuaweiAkSk { .. })
    ));
    assert!(Credentials::from_env(ProviderKind::Tencent, env).is_err());
    let env = |k: &str| match k {
        "AWS_ACCESS_KEY_ID" => Some("AKIA".to_string()),
        "AWS_SECRET_ACCESS_KEY" => Some("s".to_string()),
        "AWS_SESSION_TOKEN" => Some(" ".to_string()),
        "ALIBABA_CLOUD_ACCESS_KEY_ID" => Some("LTAI".to_string()),
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET" => Some("s".to_string()),
        "ALIBABA_CLOUD_SECURITY_TOKEN" => Some("t".to_string()),
        _ => None,
    };
    assert!(matches!(
        Credentials::from_env(ProviderKind::Aws, env),
        Ok(Credentials::Aws {
            session_token: None,
            ..
        })
    ));
    assert!(matches!(
        Credentials::from_env(ProviderKind::Alibaba, env),
        Ok(Credentials::Alibaba {
            security_token: Some(_),
            ..
        })
    ));
}

const GCP_KEY: &str = r#"{
  "type": "service_account",
  "project_id": "demo-project",
  "private_key_id": "0123456789abcdef",
  "private_key": "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC-not-a-real-key\n-----END PRIVATE KEY-----\n",
  "client_email": "tracker@demo-project.iam.gserviceaccount.com",
  "token_uri": "https://oauth2.googleapis.com/token"
}"#;

#[test]
fn reads_a_gcp_service_account_key_from_its_default_key() {
    let c = Credentials::from_secret_data(
        ProviderKind::Gcp,
        &secret_ref(),
        &data(&[("credentials.json", GCP_KEY)]),
    )
    .unwrap();
    let Credentials::Gcp(key) = &c else {
        panic!("not GCP credentials: {c:?}");
    };
    assert_eq!(
        key.client_email,
        "tracker@demo-project.iam.gserviceaccount.com"
    );
    assert_eq!(key.private_key_id, "0123456789abcdef");
    assert_eq!(key.token_uri, "https://oauth2.googleapis.com/token");
    assert!(key
        .private_key
        .expose()
        .starts_with("-----BEGIN PRIVATE KEY-----"));
    // The private key is the secret; the email and key ID identify the credential.
    assert_eq!(c.secrets(), vec![key.private_key.expose()]);
    assert_eq!(
        c.identity(),
        "tracker@demo-project.iam.gserviceaccount.com#0123456789abcdef"
    );
    assert!(!format!("{c:?}").contains("not-a-real-key"));
}

#[test]
fn a_gcp_key_without_token_uri_uses_googles_and_other_files_are_refused_by_kind() {
    let without: serde_json::Value = {
        let mut v: serde_json::Value = serde_json::from_str(GCP_KEY).unwrap();
        v.as_object_mut().unwrap().remove("token_uri");
        v
    };
    let key = GcpServiceAccountKey::from_json(&without.to_string()).unwrap();
    assert_eq!(key.token_uri, GOOGLE_TOKEN_URI);

    let user =
        r#"{"type": "authorized_user", "client_secret": "very-secret", "refresh_token": "rt"}"#;
    let err = GcpServiceAccountKey::from_json(user).unwrap_err();
    assert!(err.contains("authorized_user"), "{err}");
    assert!(!err.contains("very-secret"), "{err}");

    let mut r = secret_ref();
    r.credentials_json_key = Some("key.json".into());
    let err = Credentials::from_secret_data(
        ProviderKind::Gcp,
        &r,
        &data(&[(
            "key.json",
            "{\"private_key\": \"-----BEGIN PRIVATE KEY-----secret-bits",
        )]),
    )
    .unwrap_err();
    let shown = err.to_string();
    assert!(
        shown.contains("\"key.json\"") && shown.contains("line 1"),
        "{shown}"
    );
    assert!(!shown.contains("secret-bits"), "{shown}");
}

#[test]
fn reads_azure_client_credentials_with_overrides() {
    let mut r = secret_ref();
    r.secret_key_key = Some("password".into());
    let c = Credentials::from_secret_data(
        ProviderKind::Azure,
        &r,
        &data(&[
            ("tenantId", "72f988bf-86f1-41af-91ab-2d7cd011db47"),
            ("clientId", "00000000-0000-0000-0000-000000000001"),
            ("password", "s3cr3t~value"),
        ]),
    )
    .unwrap();
    assert_eq!(
        c,
        Credentials::Azure {
            tenant_id: "72f988bf-86f1-41af-91ab-2d7cd011db47".into(),
            client_id: "00000000-0000-0000-0000-000000000001".into(),
            client_secret: SecretString::new("s3cr3t~value"),
            authority_host: None,
        }
    );
    assert_eq!(c.secrets(), vec!["s3cr3t~value"]);
    let missing = Credentials::from_secret_data(
        ProviderKind::Azure,
        &secret_ref(),
        &data(&[("clientId", "c"), ("clientSecret", "s")]),
    )
    .unwrap_err();
    assert!(missing.to_string().contains("\"tenantId\""), "{missing}");
}

#[test]
fn reads_azure_from_the_sdk_variables() {
    let env = |k: &str| match k {
        "AZURE_TENANT_ID" => Some("t".to_string()),
        "AZURE_CLIENT_ID" => Some("c".to_string()),
        "AZURE_CLIENT_SECRET" => Some("s".to_string()),
        "AZURE_AUTHORITY_HOST" => Some("https://login.microsoftonline.us".to_string()),
        _ => None,
    };
    let Credentials::Azure { authority_host, .. } =
        Credentials::from_env(ProviderKind::Azure, env).unwrap()
    else {
        panic!("not Azure credentials");
    };
    assert_eq!(
        authority_host.as_deref(),
        Some("https://login.microsoftonline.us")
    );
    let err = Credentials::from_env(ProviderKind::Gcp, |_| None).unwrap_err();
    assert!(err.contains("GOOGLE_APPLICATION_CREDENTIALS"), "{err}");
}
