/// Element names the envelope uses: `[A-Za-z_][A-Za-z0-9_.-]*` (ASCII only, no namespaces).
pub(crate) fn valid_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    matches!(bytes.next(), Some(b'A'..=b'Z' | b'a'..=b'z' | b'_')) && bytes.all(name_byte)
}

pub(crate) fn name_byte(b: u8) -> bool {
    matches!(b, b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'-')
}
