//! The reply bodies WeChat Pay expects, as exact bytes.

/// The success reply: WeChat Pay stops re-sending only on HTTP 200 with exactly this body.
pub const ACK: &[u8] =
    b"<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>";

/// The success reply.
#[must_use]
pub fn ack() -> &'static [u8] {
    ACK
}

/// A failure reply carrying `message` (escaped, so any text is safe); WeChat Pay will retry.
///
/// ```
/// assert_eq!(
///     tenpay_notify::nack("bad <sign>"),
///     b"<xml><return_code><![CDATA[FAIL]]></return_code><return_msg>bad &lt;sign&gt;</return_msg></xml>".to_vec()
/// );
/// ```
#[must_use]
pub fn nack(message: &str) -> Vec<u8> {
    let mut out = b"<xml><return_code><![CDATA[FAIL]]></return_code><return_msg>".to_vec();
    for c in message.chars() {
        match c {
            '<' => out.extend_from_slice(b"&lt;"),
            '>' => out.extend_from_slice(b"&gt;"),
            '&' => out.extend_from_slice(b"&amp;"),
            c if matches!(c, '\t' | '\n' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..) =>
            {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
            _ => out.push(b'?'),
        }
    }
    out.extend_from_slice(b"</return_msg></xml>");
    out
}
