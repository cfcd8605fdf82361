//! Who is calling: the app's users (a pluggable [`Authenticate`], by default HMAC-signed
//! session tokens) and the back office (one bearer token).
//!
//! Your login system issues a session token for a user with [`SessionTokens::issue`] and the
//! app sends it as `Authorization: Bearer …`. To use your own sessions instead, implement
//! [`Authenticate`] and pass it to [`crate::Server::authenticator`].

use std::fmt;
use std::sync::Arc;

use hmac::{KeyInit, Mac};
use http::HeaderMap;
use subtle::ConstantTimeEq;

use crate::config::Secret;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// An authenticated user of the app: `[A-Za-z0-9_-]{1,64}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UserId(String);

impl UserId {
    /// A user id.
    ///
    /// # Errors
    /// Anything but 1 to 64 of `A-Z a-z 0-9 _ -`.
    pub fn new(id: impl Into<String>) -> Result<Self, &'static str> {
        let id = id.into();
        let ok = (1..=64).contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if ok {
            Ok(Self(id))
        } else {
            Err("a user id is 1 to 64 of A-Z a-z 0-9 _ -")
        }
    }

    /// The id.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Authenticates a request of the app's API from its headers.
pub trait Authenticate: Send + Sync + 'static {
    /// The user, or `None` (the request is answered 401).
    fn authenticate(&self, headers: &HeaderMap) -> Option<UserId>;
}

impl<F> Authenticate for F
where
    F: Fn(&HeaderMap) -> Option<UserId> + Send + Sync + 'static,
{
    fn authenticate(&self, headers: &HeaderMap) -> Option<UserId> {
        self(headers)
    }
}

/// A shared authenticator.
pub type SharedAuthenticator = Arc<dyn Authenticate>;

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

/// Session tokens `v1.USER.EXPIRES.MAC`: the user id, an expiry in Unix seconds and an
/// HMAC-SHA256 over both with the server's session secret. Stateless; a token is good until
/// it expires.
#[derive(Clone)]
pub struct SessionTokens {
    secret: Secret,
}

impl fmt::Debug for SessionTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionTokens(redacted)")
    }
}

impl SessionTokens {
    /// Tokens signed with `secret`.
    #[must_use]
    pub fn new(secret: Secret) -> Self {
        Self { secret }
    }

    fn mac(&self, payload: &str) -> HmacSha256 {
        // HMAC takes keys of any length.
        let mut mac = HmacSha256::new_from_slice(self.secret.expose().as_bytes())
            .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
        mac.update(payload.as_bytes());
        mac
    }

    /// A token for `user`, good until `expires` (Unix seconds).
    #[must_use]
    pub fn issue(&self, user: &UserId, expires: i64) -> String {
        let payload = format!("v1.{user}.{expires}");
        let tag = hex::encode(self.mac(&payload).finalize().into_bytes());
        format!("{payload}.{tag}")
    }

    /// The user of a token that is genuine and not expired at `now`.
    #[must_use]
    pub fn verify(&self, token: &str, now: i64) -> Option<UserId> {
        let (payload, tag) = token.rsplit_once('.')?;
        let mut parts = payload.split('.');
        let (Some("v1"), Some(user), Some(expires), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        let tag = hex::decode(tag).ok()?;
        self.mac(payload).verify_slice(&tag).ok()?;
        let expires: i64 = expires.parse().ok()?;
        if expires <= now {
            return None;
        }
        UserId::new(user).ok()
    }
}

impl Authenticate for SessionTokens {
    fn authenticate(&self, headers: &HeaderMap) -> Option<UserId> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        self.verify(bearer(headers)?, now)
    }
}

/// The back office's bearer token, compared in constant time.
#[derive(Debug, Clone)]
pub struct AdminToken(Secret);

impl AdminToken {
    /// The token.
    #[must_use]
    pub fn new(secret: Secret) -> Self {
        Self(secret)
    }

    /// Whether the request carries it.
    #[must_use]
    pub fn admits(&self, headers: &HeaderMap) -> bool {
        bearer(headers)
            .is_some_and(|given| bool::from(given.as_bytes().ct_eq(self.0.expose().as_bytes())))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn tokens(s: &str) -> SessionTokens {
        SessionTokens::new(Secret::new(s, 32).unwrap())
    }

    #[test]
    fn a_token_names_its_user_until_it_expires() {
        let t = tokens("0123456789abcdef0123456789abcdef");
        let alice = UserId::new("alice").unwrap();
        let token = t.issue(&alice, 1000);
        assert_eq!(t.verify(&token, 999), Some(alice));
        assert_eq!(t.verify(&token, 1000), None);
    }

    #[test]
    fn a_changed_or_foreign_token_is_refused() {
        let t = tokens("0123456789abcdef0123456789abcdef");
        let token = t.issue(&UserId::new("alice").unwrap(), 1000);
        let forged = token.replace("alice", "bobby");
        assert_eq!(t.verify(&forged, 0), None);
        let later = token.replace(".1000.", ".9999.");
        assert_eq!(t.verify(&later, 0), None);
        let other = tokens("another-secret-another-secret-000");
        assert_eq!(other.verify(&token, 0), None);
        for junk in ["", "v1", "v1.a.b.c", "v1.alice.1000.zz", "v1.a.1.00.00"] {
            assert_eq!(t.verify(junk, 0), None, "{junk}");
        }
    }

    #[test]
    fn user_ids_are_checked() {
        assert!(UserId::new("u_1-A").is_ok());
        for bad in ["", "a.b", "a b", "é", &"x".repeat(65)] {
            assert!(UserId::new(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_admin_token_is_required_exactly() {
        let admin = AdminToken::new(Secret::new("a".repeat(32), 32).unwrap());
        let mut h = HeaderMap::new();
        assert!(!admin.admits(&h));
        h.insert(
            http::header::AUTHORIZATION,
            format!("Bearer {}", "a".repeat(31)).parse().unwrap(),
        );
        assert!(!admin.admits(&h));
        h.insert(
            http::header::AUTHORIZATION,
            format!("Bearer {}", "a".repeat(32)).parse().unwrap(),
        );
        assert!(admin.admits(&h));
    }
}
