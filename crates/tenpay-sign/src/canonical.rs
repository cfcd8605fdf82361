use core::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::error::quote;
use crate::{ApiKey, Error, SignType, Signature};
use md5::Digest as _;

/// The parameters of one message in canonical order: `sign` and empty values dropped,
/// names sorted by their bytes.
///
/// Built from any iterator of string pairs in any order (snake_case request fields and the
/// camelCase JSAPI client fields alike). Its `Display` is the exact string that is signed,
/// with the key replaced by `<redacted>`: the first thing to look at when chasing `SIGNERROR`.
///
/// ```
/// use tenpay_sign::{ApiKey, Canonical, SignType};
/// let key = ApiKey::new("192006250b4c09247ec02edce69f6a2d")?;
/// let c = Canonical::new([
///     ("nonce_str", "ibuaiVcKdpRxkhJA"), ("mch_id", "10000100"), ("body", "test"),
///     ("device_info", "1000"), ("appid", "wxd930ea5d5a258f4f"), ("sign", "ignored"), ("attach", ""),
/// ])?;
/// assert_eq!(
///     c.to_string(),
///     "appid=wxd930ea5d5a258f4f&body=test&device_info=1000&mch_id=10000100&nonce_str=ibuaiVcKdpRxkhJA&key=<redacted>"
/// );
/// assert_eq!(c.sign(&key, SignType::Md5).as_str(), "9A0A8659F005D6984697E2CA0A9CF3B7");
/// # Ok::<(), tenpay_sign::Error>(())
/// ```
#[derive(Clone)]
pub struct Canonical<K, V> {
    /// `(sort prefix, name, value)`, sorted.
    pairs: Vec<(u64, K, V)>,
}

impl<K: AsRef<str>, V: AsRef<str>> Canonical<K, V> {
    /// Puts the pairs in canonical order, dropping `sign` and empty values.
    ///
    /// Values are used exactly as given: no trimming, no URL-encoding, no XML escaping.
    ///
    /// # Errors
    /// [`Error::DuplicateField`] when a name appears twice among the kept pairs, and
    /// [`Error::InvalidFieldName`] for an empty name or one containing `=` or `&`.
    pub fn new<I>(pairs: I) -> Result<Self, Error>
    where
        I: IntoIterator<Item = (K, V)>,
    {
        let pairs = pairs.into_iter();
        // One allocation: the upper size hint (capped) rather than growing 4, 8, 16, ...
        let (low, high) = pairs.size_hint();
        let mut sorted: Vec<(u64, K, V)> = Vec::with_capacity(high.unwrap_or(low).min(256));
        const SIGN: u64 = u64::from_be_bytes(*b"sign\0\0\0\0");
        for (k, v) in pairs {
            let name = k.as_ref().as_bytes();
            let p = prefix(name);
            // `sign` (4 bytes whose prefix is that of "sign") and empty values are dropped.
            let is_sign = p == SIGN && name.len() == 4;
            if !is_sign && !v.as_ref().is_empty() {
                sorted.push((p, k, v));
            }
        }
        let mut pairs = sorted;
        // Field names are short and usually differ within 8 bytes: compare a big-endian
        // prefix first (the same order as comparing the bytes), the whole name only on a tie.
        pairs.sort_unstable_by(|a, b| {
            a.0.cmp(&b.0)
                .then_with(|| a.1.as_ref().as_bytes().cmp(b.1.as_ref().as_bytes()))
        });
        let mut previous: Option<(u64, &str)> = None;
        for (prefix, name, _) in &pairs {
            let name = name.as_ref();
            if name.is_empty() || has_separator(*prefix, name.as_bytes()) {
                return Err(Error::InvalidFieldName(quote(name)));
            }
            // Duplicates are adjacent after sorting and share the prefix: compare that first.
            if previous.is_some_and(|(p, n)| p == *prefix && n == name) {
                return Err(Error::DuplicateField(quote(name)));
            }
            previous = Some((*prefix, name));
        }
        Ok(Self { pairs })
    }

    /// The kept pairs, in canonical order.
    pub fn pairs(&self) -> impl ExactSizeIterator<Item = (&str, &str)> {
        self.pairs.iter().map(|(_, k, v)| (k.as_ref(), v.as_ref()))
    }

    /// Signs with the key and algorithm.
    #[must_use]
    pub fn sign(&self, key: &ApiKey, sign_type: SignType) -> Signature {
        match sign_type {
            SignType::Md5 => {
                // The whole canonical string in one buffer, hashed in one call: RustCrypto's
                // `md-5` then compresses block after block with no per-piece bookkeeping.
                // Typical messages fit a stack buffer (no allocation); larger ones get one.
                let len = self.canonical_len(key);
                let mut stack = [0u8; 512];
                let mut heap = Vec::new();
                let buf: &mut [u8] = if len <= stack.len() {
                    &mut stack[..len]
                } else {
                    heap.resize(len, 0);
                    &mut heap
                };
                let mut cursor = Cursor { buf, pos: 0 };
                self.feed(key, &mut cursor);
                let digest = md5::Md5::digest(&cursor.buf[..cursor.pos]);
                // The buffer held the key: clear it before it is released.
                cursor.buf.fill(0);
                Signature::from_digest(sign_type, &digest)
            }
            SignType::HmacSha256 => {
                let mut mac = key.hmac.clone();
                self.feed(key, &mut mac);
                Signature::from_digest(sign_type, &mac.finalize().into_bytes())
            }
        }
    }

    /// Checks a received signature against this message, in constant time.
    ///
    /// # Errors
    /// [`Error::MalformedSignature`] when `received` is not a signature of `sign_type` at all
    /// (wrong length, lower case, not hex), and [`Error::Mismatch`] when it is well formed but wrong.
    pub fn verify(&self, key: &ApiKey, sign_type: SignType, received: &str) -> Result<(), Error> {
        let received = Signature::parse(received, sign_type)?;
        if self.sign(key, sign_type) == received {
            Ok(())
        } else {
            Err(Error::Mismatch)
        }
    }

    /// WeCom's second signature (`workwx_sign` of its red packets and transfers): MD5 over
    /// `k=v&…&secret=SECRET`, with the WeCom payment app's secret in place of `&key=`.
    ///
    /// ```
    /// use tenpay_sign::{ApiKey, Canonical};
    /// // The vector of V2-FAMILIES §9.10, with the reference key standing in for the secret.
    /// let fields = [("act_name", "XXX"), ("mch_billno", "11111234567890"),
    ///     ("mch_id", "10000098"), ("nonce_str", "qFKEgfig76DF9912fewmkp"),
    ///     ("re_openid", "oxTWIuGaIt6gTKsQRLau2M0yL16E"), ("total_amount", "100"),
    ///     ("wxappid", "wx123456789")];
    /// let secret = ApiKey::new("192006250b4c09247ec02edce69f6a2d")?;
    /// let sign = Canonical::new(fields)?.sign_md5_with_secret(&secret);
    /// assert_eq!(sign.as_str(), "8B8D04AFC9FD08094CC5A0C2FA8BB60C");
    /// # Ok::<(), tenpay_sign::Error>(())
    /// ```
    #[must_use]
    pub fn sign_md5_with_secret(&self, secret: &ApiKey) -> Signature {
        let mut text = String::new();
        for (_, name, value) in &self.pairs {
            text.push_str(name.as_ref());
            text.push('=');
            text.push_str(value.as_ref());
            text.push('&');
        }
        text.push_str("secret=");
        text.push_str(secret.expose_secret());
        let digest = md5::Md5::digest(text.as_bytes());
        // The text held the secret: clear it before it is released.
        let mut bytes = text.into_bytes();
        bytes.fill(0);
        Signature::from_digest(SignType::Md5, &digest)
    }

    /// The length of `k=v&k=v&…&key=KEY`.
    fn canonical_len(&self, key: &ApiKey) -> usize {
        self.pairs
            .iter()
            .map(|(_, k, v)| k.as_ref().len() + v.as_ref().len() + 2)
            .sum::<usize>()
            + 4
            + key.expose_secret().len()
    }

    /// Feeds `k=v&k=v&…&key=KEY` to a hash (or a buffer), piece by piece.
    fn feed(&self, key: &ApiKey, hash: &mut impl Sink) {
        for (_, name, value) in &self.pairs {
            hash.write(name.as_ref().as_bytes());
            hash.byte(b'=');
            hash.write(value.as_ref().as_bytes());
            hash.byte(b'&');
        }
        hash.write(b"key=");
        hash.write(key.expose_secret().as_bytes());
    }
}

impl<K: AsRef<str>, V: AsRef<str>> fmt::Display for Canonical<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (name, value) in self.pairs() {
            write!(f, "{name}={value}&")?;
        }
        f.write_str("key=<redacted>")
    }
}

impl<K: AsRef<str>, V: AsRef<str>> fmt::Debug for Canonical<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Canonical")
            .field(&format_args!("{self}"))
            .finish()
    }
}

/// Where [`Canonical::feed`] writes: the buffer MD5 hashes, or an HMAC-SHA256 in progress.
pub(crate) trait Sink {
    fn write(&mut self, bytes: &[u8]);
    fn byte(&mut self, b: u8) {
        self.write(&[b]);
    }
}

/// A buffer of exactly the canonical string's length, filled in order.
struct Cursor<'a> {
    buf: &'a mut [u8],
    pos: usize,
}

impl Sink for Cursor<'_> {
    #[inline(always)]
    fn write(&mut self, bytes: &[u8]) {
        if let Some(dst) = self.buf.get_mut(self.pos..self.pos + bytes.len()) {
            dst.copy_from_slice(bytes);
        }
        self.pos += bytes.len();
    }
    #[inline(always)]
    fn byte(&mut self, b: u8) {
        if let Some(dst) = self.buf.get_mut(self.pos) {
            *dst = b;
        }
        self.pos += 1;
    }
}

impl Sink for Hmac<Sha256> {
    #[inline(always)]
    fn write(&mut self, bytes: &[u8]) {
        self.update(bytes);
    }
}

/// Whether a name contains `=` or `&`: the first 8 bytes are tested in the prefix word at
/// once, the rest byte by byte.
fn has_separator(prefix: u64, name: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let has_zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGHS != 0;
    // Zero padding cannot match '=' or '&', so the padded word is safe to test.
    has_zero(prefix ^ (ONES * u64::from(b'=')))
        || has_zero(prefix ^ (ONES * u64::from(b'&')))
        || name
            .get(8..)
            .is_some_and(|rest| rest.iter().any(|&b| b == b'=' || b == b'&'))
}

/// Sorting key: the first 8 bytes of a name, big-endian, zero-padded. Ordering by it and then
/// by the whole name is exactly byte order: unequal prefixes order as the bytes do (a zero pad
/// sorts like the end of a shorter name), and equal prefixes fall back to the full comparison.
fn prefix(name: &[u8]) -> u64 {
    let mut key = 0u64;
    for (i, &b) in name.iter().take(8).enumerate() {
        key |= u64::from(b) << (56 - 8 * i);
    }
    key
}
