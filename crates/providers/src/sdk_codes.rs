//! Every error code a client branches on exists in the official SDK's list for that API.
//!
//! `data/sdk_error_codes.txt` is generated from the official SDKs by
//! `scripts/gen-error-codes.py` (the venv's pinned SDKs; see its header for how to rerun). Each
//! errors module keeps the codes it branches on in `pub const` lists, which its mapping
//! uses and this test reads. A code found in no SDK list must be named in an exception
//! below with the document that shows it is real.
//!
//! Not covered, because no SDK ships a list: Alibaba Cloud (the Tea SDKs carry no error
//! metadata), Huawei Cloud, Azure Resource Manager and Entra ID, Tencent's legacy API 2.0.

use std::collections::{BTreeSet, HashMap};

const DATA: &str = include_str!("../data/sdk_error_codes.txt");

/// The sections of the data file.
fn lists() -> HashMap<&'static str, BTreeSet<&'static str>> {
    let mut lists: HashMap<&str, BTreeSet<&str>> = HashMap::new();
    let mut current = None;
    for line in DATA.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            current = Some(name);
            lists.entry(name).or_default();
        } else if let Some(name) = current {
            lists.entry(name).or_default().insert(line);
        }
    }
    lists
}

/// Tencent Cloud API 3.0 common error codes: real (the "公共错误码" / common error codes page
/// of every API 3.0 product's documentation, e.g. cdb's "Error Codes" section), but in no
/// SDK file, which lists only each service's own codes.
const TENCENT_COMMON: &[&str] = &[
    "AuthFailure.SignatureExpire",
    "RequestLimitExceeded",
    "UnknownParameter",
    "InvalidAction",
    "NoSuchVersion",
    "UnsupportedRegion",
    "UnsupportedProtocol",
];

/// AWS Query API common errors (the "Common Errors" page of the RDS and STS API
/// references): sent by the AWS front end for any service, so in no service model.
const AWS_COMMON: &[&str] = &[
    "SignatureDoesNotMatch",
    "InvalidClientTokenId",
    "ExpiredToken",
    "ExpiredTokenException",
    "IncompleteSignature",
    "MissingAuthenticationToken",
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "AuthFailure",
    "RequestExpired",
    "AccessDenied",
    "AccessDeniedException",
    "NotAuthorized",
    "UnauthorizedOperation",
    "OptInRequired",
];

fn family(code: &str) -> &str {
    code.split('.').next().unwrap_or(code)
}

/// The codes of `list` that are neither in one of `sections` nor in `exceptions`.
fn unknown_codes(
    list: &[&'static str],
    sections: &[&str],
    exceptions: &[&str],
) -> Vec<&'static str> {
    let lists = lists();
    list.iter()
        .copied()
        .filter(|code| {
            !exceptions.contains(code)
                && !sections
                    .iter()
                    .any(|s| lists.get(s).is_some_and(|l| l.contains(code)))
        })
        .collect()
}

/// The families of `list` (matched as `Family` or `Family.*`) that no code of `sections`
/// and no exception belongs to.
fn unknown_families(
    list: &[&'static str],
    sections: &[&str],
    exceptions: &[&str],
) -> Vec<&'static str> {
    let lists = lists();
    list.iter()
        .copied()
        .filter(|f| {
            !exceptions.iter().any(|c| family(c) == *f)
                && !sections.iter().any(|s| {
                    lists
                        .get(s)
                        .is_some_and(|l| l.iter().any(|c| family(c) == *f))
                })
        })
        .collect()
}

#[test]
fn the_data_file_has_every_section() {
    let lists = lists();
    for s in [
        "tencent-cdb",
        "tencent-sts",
        "aws-rds",
        "aws-sts",
        "aws-throttling",
        "gcp-rpc",
        "gcp-sqladmin-scopes",
    ] {
        assert!(lists.get(s).is_some_and(|l| l.len() > 1), "{s}");
    }
}

#[test]
fn tencent_cdb_codes_are_the_sdks() {
    use crate::tencent::errors::*;
    let sdk = ["tencent-cdb"];
    let mut bad = Vec::new();
    for list in [CLOCK, UNAUTHORIZED_CODES, TRANSIENT_CODES, NOT_FOUND_CODES] {
        bad.extend(unknown_codes(list, &sdk, TENCENT_COMMON));
    }
    for list in [
        THROTTLING,
        TRANSIENT,
        AUTHENTICATION,
        UNAUTHORIZED,
        NOT_FOUND,
        INVALID_REQUEST,
    ] {
        bad.extend(unknown_families(list, &sdk, TENCENT_COMMON));
    }
    assert!(bad.is_empty(), "not in the SDK's list: {bad:?}");
}

#[test]
fn tencent_sts_codes_are_the_sdks() {
    use crate::identity::tencent::{ROLE_REFUSED, TOKEN_REFUSED};
    let mut bad = unknown_codes(TOKEN_REFUSED, &["tencent-sts"], &[]);
    bad.extend(unknown_codes(ROLE_REFUSED, &["tencent-sts"], &[]));
    assert!(bad.is_empty(), "not in the STS SDK's list: {bad:?}");
}

#[test]
fn aws_codes_are_the_sdks() {
    use crate::aws::errors::{ACCESS_DENIED, AUTHENTICATION, NOT_FOUND, THROTTLING};
    use crate::identity::aws::{
        IDP_UNREACHABLE, ROLE_REFUSED, TOKEN_REFUSED, TOKEN_REFUSED_RETRIED,
    };
    let mut bad = unknown_codes(THROTTLING, &["aws-throttling"], &[]);
    bad.extend(unknown_codes(NOT_FOUND, &["aws-rds"], AWS_COMMON));
    for list in [AUTHENTICATION, ACCESS_DENIED] {
        bad.extend(unknown_codes(list, &["aws-rds", "aws-sts"], AWS_COMMON));
    }
    for list in [
        TOKEN_REFUSED,
        TOKEN_REFUSED_RETRIED,
        ROLE_REFUSED,
        IDP_UNREACHABLE,
    ] {
        bad.extend(unknown_codes(list, &["aws-sts"], AWS_COMMON));
    }
    assert!(bad.is_empty(), "not in the SDK's models: {bad:?}");
}

#[test]
fn gcp_statuses_and_scope_are_the_sdks() {
    use crate::gcp::errors::TRANSIENT_STATUSES;
    let bad = unknown_codes(TRANSIENT_STATUSES, &["gcp-rpc"], &[]);
    assert!(bad.is_empty(), "not google.rpc.Code: {bad:?}");
    // The scope asked for is one Cloud SQL's operations.get accepts.
    let scope = [crate::gcp::token::SCOPE];
    assert!(unknown_codes(&scope, &["gcp-sqladmin-scopes"], &[]).is_empty());
}

#[test]
fn the_check_catches_a_code_the_sdk_does_not_have() {
    // The codes the Tencent STS exchange branched on before issue 29.
    let old = [
        "ResourceNotFound.RoleNotExist",
        "InvalidParameter.RoleNotAuthorized",
    ];
    assert_eq!(unknown_codes(&old, &["tencent-sts"], &[]), old);
    assert_eq!(
        unknown_families(&["NoSuchFamily"], &["tencent-cdb"], &[]),
        ["NoSuchFamily"]
    );
}
