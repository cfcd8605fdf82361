use tenpay_xml::{ErrCode, Fen};

/// Why a notification was refused. Every variant means: do not act on it, answer with the
/// failure reply (WeChat Pay will retry a genuine one).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The body is not a well-formed envelope (hostile or broken XML, over the limit, …).
    #[error("malformed notification")]
    Xml(#[source] tenpay_xml::Error),
    /// `return_code` is not `SUCCESS`: the envelope reports a communication failure and carries
    /// nothing to act on.
    #[error("notification reports return_code={return_code:?}: {return_msg:?}")]
    ReturnFailure {
        /// The `return_code` received (truncated).
        return_code: String,
        /// The `return_msg` received, if any (truncated).
        return_msg: Option<String>,
    },
    /// The payment notification has no `sign` field, or an empty one.
    #[error("payment notification is not signed")]
    Unsigned,
    /// The message's `sign_type` field names another algorithm than the one configured
    /// (a downgrade attempt or a misconfiguration).
    #[error("notification claims sign_type {claimed:?}, but this merchant uses {pinned}")]
    SignTypeMismatch {
        /// What the message claims (truncated).
        claimed: String,
        /// What the merchant configured.
        pinned: tenpay_sign::SignType,
    },
    /// The signature is malformed or does not match.
    #[error("bad signature")]
    Signature(#[source] tenpay_sign::Error),
    /// `appid`, `mch_id` or `sub_mch_id` is not this merchant's.
    #[error("notification is for {field} {received:?}, not this merchant")]
    ForeignMerchant {
        /// The field that differs.
        field: &'static str,
        /// The value received (truncated).
        received: String,
    },
    /// A field required to act on the notification is absent or has the wrong form.
    #[error("a notification field is missing or malformed")]
    Field(#[source] tenpay_xml::Error),
    /// The refund notification has no `req_info` to decrypt.
    #[error("refund notification has no req_info")]
    MissingReqInfo,
    /// `req_info` is not base64 of whole AES blocks.
    #[error("req_info is not valid base64 of whole AES blocks")]
    MalformedReqInfo,
    /// `req_info` did not decrypt to a payload: the padding or the plaintext is invalid. Almost
    /// always the wrong API key (or a ciphertext altered in transit).
    #[error("req_info did not decrypt with this API key (wrong key, or altered ciphertext)")]
    WrongKey,
    /// The payment notification says the payment failed; there is nothing to settle.
    #[error("the payment failed (err_code {}); nothing to settle", err_code.as_ref().map_or("absent", ErrCode::as_str))]
    PaymentFailed {
        /// The `err_code` received, if any.
        err_code: Option<ErrCode>,
    },
    /// The amount paid is not the amount the merchant's order expects.
    #[error("amount mismatch: order expects {expected} fen, notification says {received} fen")]
    AmountMismatch {
        /// The merchant's own amount for the order.
        expected: Fen,
        /// `total_fee` in the notification.
        received: Fen,
    },
}
