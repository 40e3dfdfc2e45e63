//! [`Credential`] (what to present to a registry) and [`Credentials`] (that, plus an expiry).

use std::time::SystemTime;

use crate::Secret;

/// What a registry client presents to one registry.
///
/// The variants mirror the fields of a docker config entry, and the registry client treats
/// them the way go-containerregistry (and so Flux) does.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Credential {
    /// No credentials: the client follows the registry's challenge without any (Docker Hub
    /// and GHCR hand out anonymous pull tokens).
    #[default]
    Anonymous,
    /// A username and password, sent as HTTP Basic to the registry or to its token endpoint.
    /// Cloud providers use fixed usernames: `AWS` (ECR), `oauth2accesstoken` (GCP).
    Basic {
        /// The user name; not secret.
        username: String,
        /// The password or access token.
        password: Secret,
    },
    /// Docker's `identitytoken`: an `OAuth2` refresh token, exchanged at the registry's token
    /// endpoint with `grant_type=refresh_token` for a short-lived bearer token. `docker login`
    /// stores one for registries that hand them out, and ACR credentials are of this kind.
    IdentityToken(Secret),
    /// Docker's `registrytoken`: a bearer token sent to the registry as is, without asking its
    /// token endpoint.
    RegistryToken(Secret),
}

impl Credential {
    /// A [`Credential::Basic`].
    pub fn basic(username: impl Into<String>, password: impl Into<Secret>) -> Self {
        Self::Basic {
            username: username.into(),
            password: password.into(),
        }
    }

    /// Whether this is [`Credential::Anonymous`].
    #[must_use]
    pub fn is_anonymous(&self) -> bool {
        matches!(self, Self::Anonymous)
    }
}

/// A [`Credential`] with the time it stops working, if the provider knows it.
///
/// Static credentials (docker config secrets) have no expiry; cloud tokens do (ECR ≈12 h, GCP
/// ≈1 h, ACR refresh tokens ≈3 h). [`CachedProvider`](crate::CachedProvider) reads the expiry to
/// decide when to fetch again.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Credentials {
    /// What to present.
    pub credential: Credential,
    /// When `credential` stops working; `None` when unknown or never.
    pub expires_at: Option<SystemTime>,
}

impl Credentials {
    /// Anonymous access, no expiry.
    #[must_use]
    pub fn anonymous() -> Self {
        Self::default()
    }

    /// `credential` with no expiry.
    #[must_use]
    pub fn new(credential: Credential) -> Self {
        Self {
            credential,
            expires_at: None,
        }
    }

    /// The same credential, expiring at `at`.
    #[must_use]
    pub fn expiring_at(self, at: SystemTime) -> Self {
        Self {
            expires_at: Some(at),
            ..self
        }
    }
}

impl From<Credential> for Credentials {
    fn from(credential: Credential) -> Self {
        Self::new(credential)
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use super::{Credential, Credentials};
    use crate::Secret;

    #[test]
    fn debug_and_display_never_show_secrets() {
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1);
        let all = [
            Credential::Anonymous,
            Credential::basic("alice", "pw-secret-1"),
            Credential::IdentityToken(Secret::new("refresh-secret-2")),
            Credential::RegistryToken(Secret::new("bearer-secret-3")),
        ];
        for credential in all {
            let credentials = Credentials::new(credential.clone()).expiring_at(at);
            for shown in [
                format!("{credential:?}"),
                format!("{credential:#?}"),
                format!("{credentials:?}"),
                format!("{credentials:#?}"),
            ] {
                assert!(!shown.contains("secret-"), "{shown}");
            }
        }
        assert!(format!("{:?}", Credential::basic("alice", "x")).contains("alice"));
    }

    #[test]
    fn constructors() {
        assert!(Credentials::anonymous().credential.is_anonymous());
        assert_eq!(Credentials::anonymous().expires_at, None);
        let c: Credentials = Credential::basic("u", "p").into();
        assert!(!c.credential.is_anonymous());
        assert_eq!(c.expires_at, None);
    }
}
