//! MD5 signatures through the public API against a reference built independently: the
//! signature of any message is the upper-case hex MD5 of its canonical string.
#![allow(missing_docs, clippy::unwrap_used)]

use md5::{Digest, Md5};
use proptest::prelude::*;
use tenpay_sign::{ApiKey, SignType};

fn reference(m: &std::collections::BTreeMap<String, String>, key: &str) -> String {
    let mut text = String::new();
    for (name, value) in m {
        if !value.is_empty() {
            text.push_str(&format!("{name}={value}&"));
        }
    }
    text.push_str("key=");
    text.push_str(key);
    Md5::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// Names and values of every length up to a few blocks, so that pieces start, end and
    /// straddle every position of a 64-byte block, and the padding falls on both sides of 56.
    #[test]
    fn signature_is_md5_of_the_canonical_string(
        m in proptest::collection::btree_map("[a-z_]{1,70}", "\\PC{0,150}", 0..10),
        key in "\\PC{1,100}",
    ) {
        let k = ApiKey::new(key.clone()).unwrap();
        let ours = tenpay_sign::sign(m.iter().filter(|(n, _)| n.as_str() != "sign"), &k, SignType::Md5).unwrap();
        let without_sign: std::collections::BTreeMap<String, String> =
            m.into_iter().filter(|(n, _)| n != "sign").collect();
        prop_assert_eq!(ours.as_str(), reference(&without_sign, &key));
    }
}

#[test]
fn every_total_length_from_0_to_300_bytes() {
    // One field whose value grows a byte at a time: the canonical string takes every length.
    let k = ApiKey::new("k").unwrap();
    let mut m = std::collections::BTreeMap::new();
    for len in 0..300 {
        m.insert("a".to_owned(), "x".repeat(len));
        let ours = tenpay_sign::sign(&m, &k, SignType::Md5).unwrap();
        assert_eq!(ours.as_str(), reference(&m, "k"), "value length {len}");
    }
}
