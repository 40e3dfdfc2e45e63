//! What `imagebump get` shows: each object's Ready condition and Flux's status fields, built
//! from the state store, with the messages Flux prints.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use super::Shared;
use super::policy::resolved_message;
use crate::config::resolved::{NamespacedName, Objects, Receiver};
use crate::control::protocol::{Kind, ObjectStatus, Ready, Response, Selector};
use crate::receiver::server::receiver_secret;
use crate::state::ImageRefRecord;
use crate::time::rfc3339;

/// The status of the objects `selector` picks, sorted by kind, namespace and name.
pub fn get(
    shared: &Shared,
    objects: &Objects,
    suspended: &BTreeMap<(Kind, NamespacedName), bool>,
    selector: &Selector,
) -> Response {
    let wanted = |key: &NamespacedName| {
        selector.namespace.as_ref().is_none_or(|ns| *ns == key.namespace)
            && selector.name.as_ref().is_none_or(|n| *n == key.name)
    };
    let mut found = Vec::new();
    for kind in &selector.kinds {
        let keys: Vec<&NamespacedName> = match kind {
            Kind::ImageRepository => objects.image_repositories.keys().collect(),
            Kind::ImagePolicy => objects.image_policies.keys().collect(),
            Kind::ImageUpdateAutomation => objects.automations.keys().collect(),
            Kind::Receiver => objects.receivers.keys().collect(),
        };
        for key in keys.into_iter().filter(|k| wanted(k)) {
            let is_suspended = suspended.get(&(*kind, key.clone())).copied().unwrap_or(false);
            let mut status = match kind {
                Kind::ImageRepository => repository(shared, key),
                Kind::ImagePolicy => policy(shared, key),
                Kind::ImageUpdateAutomation => automation(shared, key),
                Kind::Receiver => receiver(shared, objects, key),
            };
            status.suspended = is_suspended || status.suspended;
            found.push(status);
        }
    }
    Response::Objects { objects: found }
}

fn blank(kind: Kind, key: &NamespacedName) -> ObjectStatus {
    ObjectStatus {
        kind,
        namespace: key.namespace.clone(),
        name: key.name.clone(),
        ready: Ready::Unknown,
        message: "reconciliation in progress".to_owned(),
        suspended: false,
        last_time: None,
        latest_image: None,
        status: Value::Object(serde_json::Map::new()),
    }
}

fn unreadable(mut status: ObjectStatus, error: &crate::state::StateError) -> ObjectStatus {
    status.ready = Ready::False;
    status.message = format!("state store: {error}");
    status
}

fn repository(shared: &Shared, key: &NamespacedName) -> ObjectStatus {
    let mut status = blank(Kind::ImageRepository, key);
    let record = match shared.store.repository(&key.to_string()) {
        Ok(Some(record)) => record,
        Ok(None) => return status,
        Err(e) => return unreadable(status, &e),
    };
    status.last_time = record.scan_time.map(rfc3339);
    if let Some(error) = &record.last_error {
        status.ready = Ready::False;
        status.message.clone_from(error);
    } else if record.scan_time.is_some() {
        status.ready = Ready::True;
        status.message = format!("successful scan: found {} tags", record.tags.len());
    }
    // Flux's `latestTags`: the first ten of a descending byte-wise sort.
    let mut latest: Vec<&String> = record.tags.iter().collect();
    latest.sort_unstable_by(|a, b| b.cmp(a));
    latest.truncate(10);
    status.status = json!({
        "canonicalImageName": record.canonical_image_name,
        "lastScanResult": {
            "tagCount": record.tags.len(),
            "scanTime": record.scan_time.map(rfc3339),
            "revision": record.revision,
            "latestTags": latest,
        },
        "observedExclusionList": record.observed_exclusion_list,
    });
    status
}

fn image_json(image: &ImageRefRecord) -> Value {
    let mut value = json!({ "name": image.name, "tag": image.tag });
    if !image.digest.is_empty() {
        value["digest"] = json!(image.digest);
    }
    value
}

fn policy(shared: &Shared, key: &NamespacedName) -> ObjectStatus {
    let mut status = blank(Kind::ImagePolicy, key);
    let record = match shared.store.policy(&key.to_string()) {
        Ok(Some(record)) => record,
        Ok(None) => return status,
        Err(e) => return unreadable(status, &e),
    };
    if let Some(latest) = &record.latest {
        status.latest_image = Some(format!("{}:{}", latest.name, latest.tag));
        status.ready = Ready::True;
        status.message = resolved_message(latest, record.previous.as_ref());
    }
    if let Some(error) = &record.last_error {
        status.ready = Ready::False;
        status.message.clone_from(error);
    }
    status.status = json!({
        "latestRef": record.latest.as_ref().map(image_json),
        "observedPreviousRef": record.previous.as_ref().map(image_json),
    });
    status
}

fn automation(shared: &Shared, key: &NamespacedName) -> ObjectStatus {
    let mut status = blank(Kind::ImageUpdateAutomation, key);
    let record = match shared.store.automation(&key.to_string()) {
        Ok(Some(record)) => record,
        Ok(None) => return status,
        Err(e) => return unreadable(status, &e),
    };
    status.last_time = record.last_run_time.map(rfc3339);
    if let Some(error) = &record.last_error {
        status.ready = Ready::False;
        status.message.clone_from(error);
    } else if let Some(message) = &record.last_message {
        status.ready = Ready::True;
        status.message.clone_from(message);
    }
    let policies: BTreeMap<&String, Value> = record
        .observed_policies
        .iter()
        .map(|(k, v)| (k, image_json(v)))
        .collect();
    status.status = json!({
        "lastAutomationRunTime": record.last_run_time.map(rfc3339),
        "lastPushCommit": record.last_push_commit,
        "lastPushTime": record.last_push_time.map(rfc3339),
        "observedSourceRevision": record.observed_source_revision,
        "observedPolicies": policies,
    });
    status
}

/// Flux's receiver URL path: `/hook/` + [`hook_digest`].
pub fn hook_path(token: &str, receiver: &NamespacedName) -> String {
    format!("/hook/{}", hook_digest(token, receiver))
}

/// Hex sha256 of token, name and namespace, as Flux's notification-controller computes it.
pub fn hook_digest(token: &str, receiver: &NamespacedName) -> String {
    let digest = Sha256::new()
        .chain_update(token.as_bytes())
        .chain_update(receiver.name.as_bytes())
        .chain_update(receiver.namespace.as_bytes())
        .finalize();
    hex::encode(digest)
}

fn receiver(shared: &Shared, objects: &Objects, key: &NamespacedName) -> ObjectStatus {
    let mut status = blank(Kind::Receiver, key);
    let Some(object): Option<&Receiver> = objects.receivers.get(key) else {
        return status;
    };
    status.suspended = object.suspend;
    match receiver_secret(shared.secrets(objects), &object.secret_ref) {
        Ok(secret) => {
            let path = hook_path(&String::from_utf8_lossy(&secret.token), key);
            status.ready = Ready::True;
            status.message = format!("Receiver initialized for path: {path}");
            status.status = json!({ "webhookPath": path });
        }
        Err(e) => {
            status.ready = Ready::False;
            status.message = e;
        }
    }
    if let Ok(Some(record)) = shared.store.receiver(&key.to_string()) {
        status.last_time = record.last_event_time.map(rfc3339);
    }
    status
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hook_path_is_sha256_of_token_name_namespace() {
        let key = NamespacedName {
            namespace: "flux-system".to_owned(),
            name: "podinfo".to_owned(),
        };
        // printf 'tokenpodinfoflux-system' | sha256sum
        let expected = hex::encode(Sha256::digest(b"tokenpodinfoflux-system"));
        assert_eq!(hook_path("token", &key), format!("/hook/{expected}"));
    }
}
