//! The tables, exactly: columns, padding, tabs, `-A`, `get images all` and the empty cases.

use super::{nothing_found, tables};
use crate::control::protocol::{Kind, ObjectStatus, Ready};

fn status(kind: Kind, namespace: &str, name: &str) -> ObjectStatus {
    ObjectStatus {
        kind,
        namespace: namespace.to_owned(),
        name: name.to_owned(),
        ready: Ready::True,
        message: String::new(),
        suspended: false,
        last_time: None,
        latest_image: None,
        status: serde_json::Value::Null,
    }
}

fn repositories() -> Vec<ObjectStatus> {
    vec![
        ObjectStatus {
            message: "successful scan: found 13 tags".to_owned(),
            last_time: Some("2026-11-23T14:03:32Z".to_owned()),
            ..status(Kind::ImageRepository, "flux-system", "podinfo")
        },
        ObjectStatus {
            ready: Ready::False,
            suspended: true,
            message: "GET https://ghcr.io/v2/org/app/tags/list:\nUNAUTHORIZED".to_owned(),
            ..status(Kind::ImageRepository, "apps", "app")
        },
    ]
}

fn policy() -> ObjectStatus {
    ObjectStatus {
        message: "Latest image tag for 'ghcr.io/stefanprodan/podinfo' resolved to 5.0.3".to_owned(),
        latest_image: Some("ghcr.io/stefanprodan/podinfo:5.0.3".to_owned()),
        ..status(Kind::ImagePolicy, "flux-system", "podinfo")
    }
}

fn automation() -> ObjectStatus {
    ObjectStatus {
        ready: Ready::Unknown,
        message: "reconciliation in progress".to_owned(),
        last_time: Some("2026-11-23T14:05:00Z".to_owned()),
        ..status(Kind::ImageUpdateAutomation, "flux-system", "flux-system")
    }
}

#[test]
fn repositories_table() {
    assert_eq!(
        tables(&[Kind::ImageRepository], &repositories(), false),
        "NAME   \tLAST SCAN           \tSUSPENDED\tREADY\tMESSAGE\n\
         podinfo\t2026-11-23T14:03:32Z\tFalse    \tTrue \tsuccessful scan: found 13 tags\n\
         app    \t                    \tTrue     \tFalse\tGET https://ghcr.io/v2/org/app/tags/list: UNAUTHORIZED\n"
    );
}

#[test]
fn policy_table() {
    assert_eq!(
        tables(&[Kind::ImagePolicy], &[policy()], false),
        "NAME   \tLATEST IMAGE                      \tREADY\tMESSAGE\n\
         podinfo\tghcr.io/stefanprodan/podinfo:5.0.3\tTrue \t\
         Latest image tag for 'ghcr.io/stefanprodan/podinfo' resolved to 5.0.3\n"
    );
}

#[test]
fn update_table() {
    assert_eq!(
        tables(&[Kind::ImageUpdateAutomation], &[automation()], false),
        "NAME       \tLAST RUN            \tSUSPENDED\tREADY  \tMESSAGE\n\
         flux-system\t2026-11-23T14:05:00Z\tFalse    \tUnknown\treconciliation in progress\n"
    );
}

#[test]
fn receivers_table() {
    let receiver = ObjectStatus {
        message: "Receiver initialized for path: /hook/bed6d00b5555b1603e1f59b94d7fdbca58089cb5663633fb83f2815dc626d92b"
            .to_owned(),
        ..status(Kind::Receiver, "flux-system", "podinfo")
    };
    assert_eq!(
        tables(&[Kind::Receiver], &[receiver], false),
        "NAME   \tSUSPENDED\tREADY\tMESSAGE\n\
         podinfo\tFalse    \tTrue \tReceiver initialized for path: \
         /hook/bed6d00b5555b1603e1f59b94d7fdbca58089cb5663633fb83f2815dc626d92b\n"
    );
}

#[test]
fn all_namespaces_adds_a_namespace_column() {
    assert_eq!(
        tables(&[Kind::ImageRepository], &repositories(), true),
        "NAMESPACE  \tNAME   \tLAST SCAN           \tSUSPENDED\tREADY\tMESSAGE\n\
         flux-system\tpodinfo\t2026-11-23T14:03:32Z\tFalse    \tTrue \tsuccessful scan: found 13 tags\n\
         apps       \tapp    \t                    \tTrue     \tFalse\tGET https://ghcr.io/v2/org/app/tags/list: UNAUTHORIZED\n"
    );
}

#[test]
fn all_prints_one_table_per_kind_with_kind_prefixes() {
    let mut objects = repositories();
    objects.truncate(1);
    objects.extend([policy(), automation()]);
    let kinds = [
        Kind::ImageRepository,
        Kind::ImagePolicy,
        Kind::ImageUpdateAutomation,
    ];
    assert_eq!(
        tables(&kinds, &objects, false),
        "NAME                   \tLAST SCAN           \tSUSPENDED\tREADY\tMESSAGE\n\
         imagerepository/podinfo\t2026-11-23T14:03:32Z\tFalse    \tTrue \tsuccessful scan: found 13 tags\n\
         \n\
         NAME               \tLATEST IMAGE                      \tREADY\tMESSAGE\n\
         imagepolicy/podinfo\tghcr.io/stefanprodan/podinfo:5.0.3\tTrue \t\
         Latest image tag for 'ghcr.io/stefanprodan/podinfo' resolved to 5.0.3\n\
         \n\
         NAME                             \tLAST RUN            \tSUSPENDED\tREADY  \tMESSAGE\n\
         imageupdateautomation/flux-system\t2026-11-23T14:05:00Z\tFalse    \tUnknown\treconciliation in progress\n"
    );
}

#[test]
fn all_skips_kinds_without_objects() {
    let kinds = [
        Kind::ImageRepository,
        Kind::ImagePolicy,
        Kind::ImageUpdateAutomation,
    ];
    assert_eq!(
        tables(&kinds, &[policy()], false),
        "NAME               \tLATEST IMAGE                      \tREADY\tMESSAGE\n\
         imagepolicy/podinfo\tghcr.io/stefanprodan/podinfo:5.0.3\tTrue \t\
         Latest image tag for 'ghcr.io/stefanprodan/podinfo' resolved to 5.0.3\n"
    );
}

#[test]
fn nothing_prints_no_table() {
    assert_eq!(tables(&[Kind::ImageRepository], &[], false), "");
    assert_eq!(tables(&[Kind::ImageRepository, Kind::ImagePolicy], &[], true), "");
}

#[test]
fn nothing_found_messages() {
    assert_eq!(
        nothing_found(&[Kind::ImageRepository], None, Some("flux-system")),
        "no ImageRepository objects found in \"flux-system\" namespace"
    );
    assert_eq!(
        nothing_found(&[Kind::ImagePolicy], Some("podinfo"), None),
        "ImagePolicy object 'podinfo' not found in any namespace"
    );
    assert_eq!(
        nothing_found(
            &[
                Kind::ImageRepository,
                Kind::ImagePolicy,
                Kind::ImageUpdateAutomation
            ],
            None,
            Some("apps")
        ),
        "no ImageRepository, ImagePolicy or ImageUpdateAutomation objects found in \"apps\" namespace"
    );
}
