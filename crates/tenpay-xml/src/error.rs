/// Everything that can go wrong reading, writing or converting a message.
///
/// Reading errors carry the byte offset in the input where the problem was found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The body is larger than the reader's limit; nothing was read.
    #[error("body of {actual} bytes is over the {limit}-byte limit")]
    TooLarge {
        /// The configured limit in bytes.
        limit: usize,
        /// The body's size in bytes.
        actual: usize,
    },
    /// The document has more fields than the reader's limit.
    #[error("more than {limit} fields")]
    TooManyFields {
        /// The configured limit.
        limit: usize,
    },
    /// The body is not valid UTF-8 (WeChat Pay bodies are UTF-8 only).
    #[error("not valid UTF-8 at byte {offset}")]
    NotUtf8 {
        /// Offset of the first invalid byte.
        offset: usize,
    },
    /// A document type declaration (`<!DOCTYPE`, `<!ENTITY`, ...): refused outright, so no
    /// entity can ever be declared, expanded or fetched.
    #[error("document type declarations are not allowed (byte {offset})")]
    Doctype {
        /// Offset of the declaration.
        offset: usize,
    },
    /// Markup outside the envelope's subset: comments, processing instructions, attributes.
    #[error("{what} not allowed at byte {offset}")]
    Unsupported {
        /// What was found.
        what: &'static str,
        /// Where.
        offset: usize,
    },
    /// An entity reference other than the five predefined ones and character references.
    #[error("unknown or malformed entity reference at byte {offset}")]
    BadReference {
        /// Offset of the `&`.
        offset: usize,
    },
    /// A character XML 1.0 does not allow (NUL and other control characters, U+FFFE, U+FFFF),
    /// raw or as a character reference.
    #[error("character not allowed in XML 1.0 at byte {offset}")]
    InvalidChar {
        /// Offset of the character or reference.
        offset: usize,
    },
    /// An element inside a field: the envelope is flat.
    #[error("field {field:?} contains a nested element (byte {offset})")]
    Nested {
        /// The field that contained it.
        field: String,
        /// Where the nested element starts.
        offset: usize,
    },
    /// The same field twice: the signed value and the used value could differ.
    #[error("field {0:?} appears more than once")]
    DuplicateField(String),
    /// The root element is not the expected one (names are case-sensitive).
    #[error("root element is {found:?}, expected {expected:?}")]
    WrongRoot {
        /// The root the reader was configured for.
        expected: String,
        /// The root found.
        found: String,
    },
    /// Non-whitespace text between fields or around the root.
    #[error("text outside any field at byte {offset}")]
    TextOutsideElements {
        /// Where the text starts.
        offset: usize,
    },
    /// Anything but whitespace after the root element's end.
    #[error("content after the root element at byte {offset}")]
    TrailingContent {
        /// Where it starts.
        offset: usize,
    },
    /// The input ended inside the document.
    #[error("input ends before the document does")]
    UnexpectedEof,
    /// An end tag that does not close the open element.
    #[error("end tag {found:?} does not close {open:?} (byte {offset})")]
    MismatchedTag {
        /// The open element.
        open: String,
        /// The end tag found.
        found: String,
        /// Where.
        offset: usize,
    },
    /// Malformed markup (a bad tag, a bad declaration, a stray `]]>`).
    #[error("malformed XML at byte {offset}: {what}")]
    Syntax {
        /// What is wrong.
        what: &'static str,
        /// Where.
        offset: usize,
    },
    /// A field or root name outside `[A-Za-z_][A-Za-z0-9_.-]*`.
    #[error("invalid element name {0:?}")]
    InvalidName(String),
    /// A value that XML 1.0 cannot carry (control characters), refused when put in a map.
    #[error("field {0:?} has a character XML 1.0 cannot carry")]
    UnrepresentableValue(String),
    /// A required field is absent.
    #[error("missing field {0:?}")]
    MissingField(String),
    /// A field's value does not have the form its type needs.
    #[error("field {field:?}: {reason}")]
    InvalidValue {
        /// The field (empty when not known).
        field: String,
        /// What is wrong with the value.
        reason: String,
    },
    /// A message whose `sign` field is absent or empty.
    #[error("the message has no signature")]
    MissingSignature,
    /// Signing or verification failed.
    #[error(transparent)]
    Sign(#[from] tenpay_sign::Error),
}

pub(crate) fn quote(s: &str) -> String {
    const MAX: usize = 64;
    match s.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}
