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

    /// From now on, refuse `user`'s credentials issued at or before `before_ms` (Unix
    /// milliseconds). The server calls this when the back office revokes a user
    /// (`POST /users/{id}/revoke`), and every few seconds for each revocation in the
    /// database, so that every instance sharing it learns of it. The default ignores it: your
    /// own sessions are revoked your own way.
    fn revoke_before(&self, user: &UserId, before_ms: i64) {
        let _ = (user, before_ms);
    }
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

/// Tells `authenticator` of every revocation in the store younger than `window` (older ones
/// cover only expired tokens). A failed read is logged and tried again next time.
pub async fn load_revocations(
    store: &crate::store::Store,
    authenticator: &dyn Authenticate,
    window: std::time::Duration,
) {
    let since = now_ms().saturating_sub(i64::try_from(window.as_millis()).unwrap_or(i64::MAX));
    match store.session_revocations(since).await {
        Ok(rows) => {
            for (user, before) in rows {
                if let Ok(user) = UserId::new(user) {
                    authenticator.revoke_before(&user, before);
                }
            }
        }
        Err(e) => tracing::warn!(error = %e, "reading session revocations failed"),
    }
}

/// Revokes every session of `user` issued until now: in the store (every instance reads it
/// within 5 s) and in `authenticator` at once. Returns the cutoff (Unix milliseconds).
///
/// # Errors
/// The store's (nothing revoked).
pub async fn revoke(
    store: &crate::store::Store,
    authenticator: &dyn Authenticate,
    user: &UserId,
) -> Result<i64, crate::store::StoreError> {
    let before = now_ms();
    store.revoke_sessions(user.as_str(), before).await?;
    authenticator.revoke_before(user, before);
    tracing::info!(user = %user, "sessions revoked");
    Ok(before)
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
}

/// Session tokens `v2.USER.ISSUED.EXPIRES.MAC`: the user id, when the token was issued (Unix
/// milliseconds), its expiry (Unix seconds) and an HMAC-SHA256 over them with the server's
/// session secret. A token is good until it expires, at most [`SessionTokens::max_lifetime`]
/// after it was issued (a token claiming a longer life is refused), and until its user's
/// tokens are revoked ([`Authenticate::revoke_before`]).
#[derive(Clone)]
pub struct SessionTokens {
    secret: Secret,
    max_lifetime_secs: i64,
    revoked: Arc<std::sync::RwLock<std::collections::HashMap<String, i64>>>,
}

/// A token issued this far in the future is refused (clocks of several instances differ).
const CLOCK_SKEW_MS: i64 = 60_000;

use crate::clock::unix_now_ms as now_ms;

impl fmt::Debug for SessionTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionTokens(redacted)")
    }
}

impl SessionTokens {
    /// Tokens signed with `secret`, living at most 30 days.
    #[must_use]
    pub fn new(secret: Secret) -> Self {
        Self {
            secret,
            max_lifetime_secs: 30 * 86_400,
            revoked: Arc::default(),
        }
    }

    /// The longest a token may live (`APP_SESSION_MAX_LIFETIME_SECS`): one whose expiry is
    /// later after its issue is refused.
    #[must_use]
    pub fn max_lifetime(mut self, max: std::time::Duration) -> Self {
        self.max_lifetime_secs = i64::try_from(max.as_secs()).unwrap_or(i64::MAX);
        self
    }

    /// The longest a token may live.
    #[must_use]
    pub fn lifetime(&self) -> std::time::Duration {
        std::time::Duration::from_secs(u64::try_from(self.max_lifetime_secs).unwrap_or(0))
    }

    fn mac(&self, payload: &str) -> HmacSha256 {
        // HMAC takes keys of any length.
        let mut mac = HmacSha256::new_from_slice(self.secret.expose().as_bytes())
            .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
        mac.update(payload.as_bytes());
        mac
    }

    /// A token for `user`, issued now, good until `expires` (Unix seconds; at most
    /// [`SessionTokens::max_lifetime`] from now, or it will be refused).
    #[must_use]
    pub fn issue(&self, user: &UserId, expires: i64) -> String {
        self.issue_at(user, now_ms(), expires)
    }

    /// A token for `user` issued at `issued_ms` (Unix milliseconds), good until `expires`.
    #[must_use]
    pub fn issue_at(&self, user: &UserId, issued_ms: i64, expires: i64) -> String {
        let payload = format!("v2.{user}.{issued_ms}.{expires}");
        let tag = hex::encode(self.mac(&payload).finalize().into_bytes());
        format!("{payload}.{tag}")
    }

    /// The user of a token that is genuine, issued no later than `now_ms` (within a minute
    /// of clock skew), not expired, not longer-lived than the maximum, and not revoked.
    #[must_use]
    pub fn verify(&self, token: &str, now_ms: i64) -> Option<UserId> {
        let (payload, tag) = token.rsplit_once('.')?;
        let mut parts = payload.split('.');
        let (Some("v2"), Some(user), Some(issued), Some(expires), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return None;
        };
        // Lowercase hex only: one spelling per token.
        if tag.bytes().any(|b| b.is_ascii_uppercase()) {
            return None;
        }
        let tag = hex::decode(tag).ok()?;
        self.mac(payload).verify_slice(&tag).ok()?;
        let issued: i64 = issued.parse().ok()?;
        let expires: i64 = expires.parse().ok()?;
        let now = now_ms.div_euclid(1000);
        let lifetime = expires.checked_sub(issued.div_euclid(1000))?;
        if expires <= now
            || lifetime > self.max_lifetime_secs
            || issued > now_ms.saturating_add(CLOCK_SKEW_MS)
        {
            return None;
        }
        let revoked = self
            .revoked
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(user)
            .is_some_and(|before| issued <= *before);
        if revoked {
            return None;
        }
        UserId::new(user).ok()
    }
}

impl Authenticate for SessionTokens {
    fn authenticate(&self, headers: &HeaderMap) -> Option<UserId> {
        self.verify(bearer(headers)?, now_ms())
    }

    fn revoke_before(&self, user: &UserId, before_ms: i64) {
        let mut map = self
            .revoked
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let slot = map.entry(user.as_str().to_owned()).or_insert(before_ms);
        *slot = (*slot).max(before_ms);
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
        let token = t.issue_at(&alice, 0, 1000);
        assert_eq!(t.verify(&token, 999_999), Some(alice));
        assert_eq!(t.verify(&token, 1_000_000), None);
    }

    #[test]
    fn a_token_claiming_a_longer_life_than_the_maximum_is_refused() {
        let t = tokens("0123456789abcdef0123456789abcdef")
            .max_lifetime(std::time::Duration::from_secs(3600));
        let alice = UserId::new("alice").unwrap();
        assert!(t.verify(&t.issue_at(&alice, 0, 3600), 1).is_some());
        assert_eq!(t.verify(&t.issue_at(&alice, 0, 3601), 1), None);
        // The review's "good forever" token.
        assert_eq!(t.verify(&t.issue_at(&alice, 0, i64::MAX), 1), None);
        // Issued in the future (beyond a minute of skew), or before the epoch.
        assert_eq!(t.verify(&t.issue_at(&alice, 120_000, 3600), 1), None);
        assert!(t.verify(&t.issue_at(&alice, 30_000, 3600), 1).is_some());
    }

    #[test]
    fn a_revoked_users_earlier_tokens_are_refused_and_later_ones_good() {
        let t = tokens("0123456789abcdef0123456789abcdef");
        let (alice, bob) = (UserId::new("alice").unwrap(), UserId::new("bob").unwrap());
        let old = t.issue_at(&alice, 5_000, 3600);
        let bobs = t.issue_at(&bob, 5_000, 3600);
        t.revoke_before(&alice, 5_000);
        assert_eq!(t.verify(&old, 6_000), None);
        assert!(t.verify(&bobs, 6_000).is_some());
        assert!(t.verify(&t.issue_at(&alice, 5_001, 3600), 6_000).is_some());
        // An older revocation arriving later does not undo a newer one.
        t.revoke_before(&alice, 1_000);
        assert_eq!(t.verify(&old, 6_000), None);
    }

    #[test]
    fn a_changed_or_foreign_token_is_refused() {
        let t = tokens("0123456789abcdef0123456789abcdef");
        let token = t.issue_at(&UserId::new("alice").unwrap(), 0, 1000);
        assert!(t.verify(&token, 0).is_some());
        let forged = token.replace("alice", "bobby");
        assert_eq!(t.verify(&forged, 0), None);
        let later = token.replace(".1000.", ".9999.");
        assert_eq!(t.verify(&later, 0), None);
        let other = tokens("another-secret-another-secret-000");
        assert_eq!(other.verify(&token, 0), None);
        let (payload, tag) = token.rsplit_once('.').unwrap();
        let upper = format!("{payload}.{}", tag.to_uppercase());
        assert_eq!(t.verify(&upper, 0), None);
        for junk in [
            "",
            "v2",
            "v2.a.b.c",
            "v2.alice.0.1000.zz",
            "v2.a.1.00.00",
            "v1.alice.1000.00",
        ] {
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
