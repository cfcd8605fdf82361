#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc(test(attr(deny(warnings))))]

mod aead;
mod error;
mod keys;
mod message;
mod pay;
mod verifier;

pub use aead::{AEAD_AES_256_GCM, ApiV3Key, Resource};
pub use error::{DecryptError, KeyError, SignError, VerifyError};
pub use keys::{
    KeyId, PROBE_PREFIX, PUBLIC_KEY_ID_PREFIX, PlatformCertificate, PrivateKey, PublicKey,
};
pub use message::{Authorization, SCHEME, Signer, answer_message, request_message};
pub use pay::{AppPay, JsapiPay};
pub use verifier::{KeyRing, SignedHeaders, Verifier, header};

/// The most a signed timestamp may differ from the verifier's clock, in seconds. WeChat
/// Pay's rule is five minutes; at exactly 300 s a message is still accepted.
pub const MAX_CLOCK_SKEW: u64 = 300;
