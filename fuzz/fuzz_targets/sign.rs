//! tenpay-sign's own MD5 (and the HMAC path) against RustCrypto, on canonical strings of every
//! shape: the input's lines become field values, so pieces of every length land at every
//! offset of a 64-byte block.
#![no_main]

use hmac::{KeyInit, Mac};
use libfuzzer_sys::fuzz_target;
use md5::Digest;
use tenpay_sign::{ApiKey, SignType};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (key, body) = text.split_once('\n').unwrap_or(("k", &text));
    let Ok(api_key) = ApiKey::new(key) else {
        return;
    };
    let fields: Vec<(String, &str)> = body
        .split('\n')
        .enumerate()
        .map(|(i, v)| (format!("f{i:05}"), v))
        .collect();
    let mut canonical = String::new();
    for (name, value) in &fields {
        if !value.is_empty() {
            canonical.push_str(&format!("{name}={value}&"));
        }
    }
    canonical.push_str("key=");
    canonical.push_str(key);
    let upper = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02X}")).collect::<String>();

    let md5 = tenpay_sign::sign(
        fields.iter().map(|(n, v)| (n.as_str(), *v)),
        &api_key,
        SignType::Md5,
    )
    .expect("valid names");
    assert_eq!(md5.as_str(), upper(&md5::Md5::digest(canonical.as_bytes())));

    let hmac = tenpay_sign::sign(
        fields.iter().map(|(n, v)| (n.as_str(), *v)),
        &api_key,
        SignType::HmacSha256,
    )
    .expect("valid names");
    let mut mac =
        <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(key.as_bytes()).expect("any length");
    mac.update(canonical.as_bytes());
    assert_eq!(hmac.as_str(), upper(&mac.finalize().into_bytes()));
});
