use crate::SignType;

/// Everything that can go wrong while signing or verifying.
///
/// A [`Error::Mismatch`] means the signature was well formed but does not match the
/// message; every other variant means the input itself was unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The API key was empty.
    #[error("the API key is empty")]
    EmptyKey,
    /// A sign type other than exactly `MD5` or `HMAC-SHA256`.
    #[error("unknown sign type {0:?}: expected exactly \"MD5\" or \"HMAC-SHA256\"")]
    UnknownSignType(String),
    /// The signature text is not a signature of the expected type.
    #[error("malformed {sign_type} signature: {reason}")]
    MalformedSignature {
        /// The algorithm the signature was checked against.
        sign_type: SignType,
        /// What is wrong with it.
        reason: Malformed,
    },
    /// The signature is well formed but does not match the message and key.
    #[error(
        "signature mismatch: the message was not signed with this key and algorithm, or was changed after signing"
    )]
    Mismatch,
    /// The same field name was given twice, so what is signed would be ambiguous.
    #[error("field {0:?} appears more than once")]
    DuplicateField(String),
    /// A field name that cannot appear in a canonical string (empty, or containing `=` or `&`).
    #[error("invalid field name {0:?}: names must be non-empty and contain neither '=' nor '&'")]
    InvalidFieldName(String),
}

/// Why a signature string was refused before any comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Malformed {
    /// The signature is empty.
    #[error("it is empty")]
    Empty,
    /// Wrong number of characters for the algorithm (32 for MD5, 64 for HMAC-SHA256).
    #[error("expected {expected} hex characters, got {actual}")]
    WrongLength {
        /// Characters the algorithm produces.
        expected: usize,
        /// Characters received.
        actual: usize,
    },
    /// Hex in lower case: the protocol sends upper case.
    #[error("it is lower-case hex; WeChat Pay signatures are upper-case")]
    LowerCase,
    /// A character that is not a hex digit.
    #[error("it contains a character that is not a hex digit")]
    NotHex,
}

/// Shortens text quoted in an error, so hostile input cannot make errors huge.
pub(crate) fn quote(s: &str) -> String {
    const MAX: usize = 64;
    match s.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}
