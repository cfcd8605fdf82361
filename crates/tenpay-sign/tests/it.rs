//! Integration tests for tenpay-sign: published vectors (as data), fixtures, properties.
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use tenpay_sign::{ApiKey, Canonical, Error, Malformed, SignType, Signature};

const DOC_KEY: &str = "192006250b4c09247ec02edce69f6a2d";

fn key(k: &str) -> ApiKey {
    ApiKey::new(k).unwrap()
}

#[derive(Debug)]
struct Vector {
    name: String,
    key: String,
    sign_type: SignType,
    params: Vec<(String, String)>,
    canonical: Option<String>,
    expected: String,
}

fn vectors() -> Vec<Vector> {
    let text = include_str!("data/vectors.json");
    let json: serde_json::Value = serde_json::from_str(text).unwrap();
    json.as_array()
        .unwrap()
        .iter()
        .map(|v| Vector {
            name: v["name"].as_str().unwrap().to_owned(),
            key: v["key"].as_str().unwrap().to_owned(),
            sign_type: v["sign_type"].as_str().unwrap().parse().unwrap(),
            params: v["params"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| {
                    (
                        p[0].as_str().unwrap().to_owned(),
                        p[1].as_str().unwrap().to_owned(),
                    )
                })
                .collect(),
            canonical: v.get("canonical").map(|c| c.as_str().unwrap().to_owned()),
            expected: v["expected"].as_str().unwrap().to_owned(),
        })
        .collect()
}

#[test]
fn published_vectors_sign_and_verify() {
    let vectors = vectors();
    assert!(vectors.len() >= 15, "vector file lost entries");
    for v in &vectors {
        let k = key(&v.key);
        let c = Canonical::new(v.params.iter().map(|(a, b)| (a.as_str(), b.as_str()))).unwrap();
        if let Some(expected) = &v.canonical {
            assert_eq!(&c.to_string(), expected, "{}", v.name);
        }
        let sig = c.sign(&k, v.sign_type);
        assert_eq!(sig.as_str(), v.expected, "{}", v.name);
        assert_eq!(sig.sign_type(), v.sign_type);
        c.verify(&k, v.sign_type, &v.expected)
            .unwrap_or_else(|e| panic!("{}: {e}", v.name));
    }
}

/// `client_pay_params.kv` (sdk-go): APP and JSAPI client parameter sets verify with the doc key.
#[test]
fn client_pay_params_fixture_verifies() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/protocol/client_pay_params.kv"
    );
    let text = std::fs::read_to_string(path).unwrap();
    let mut sections: Vec<(String, Vec<(String, String)>)> = Vec::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        if let Some(name) = line.strip_prefix('[') {
            sections.push((name.trim_end_matches(']').to_owned(), Vec::new()));
        } else {
            let (k, v) = line.split_once('=').unwrap();
            sections
                .last_mut()
                .unwrap()
                .1
                .push((k.to_owned(), v.to_owned()));
        }
    }
    assert_eq!(sections.len(), 2);
    for (name, pairs) in sections {
        let sig_field = if name == "jsapi" { "paySign" } else { "sign" };
        let received = pairs
            .iter()
            .find(|(k, _)| k == sig_field)
            .unwrap()
            .1
            .clone();
        let signed = pairs
            .iter()
            .filter(|(k, _)| k != sig_field)
            .map(|(a, b)| (a.as_str(), b.as_str()));
        tenpay_sign::verify(signed, &key(DOC_KEY), SignType::Md5, &received).unwrap();
    }
}

#[test]
fn sign_type_parses_exactly() {
    assert_eq!("MD5".parse::<SignType>().unwrap(), SignType::Md5);
    assert_eq!(
        "HMAC-SHA256".parse::<SignType>().unwrap(),
        SignType::HmacSha256
    );
    for bad in [
        "md5",
        "HMAC_SHA256",
        "hmac-sha256",
        "",
        " MD5",
        "MD5 ",
        "SHA256",
        "HMAC-SHA256\0",
    ] {
        assert!(
            matches!(bad.parse::<SignType>(), Err(Error::UnknownSignType(_))),
            "{bad:?} must not parse"
        );
    }
}

#[test]
fn malformed_signatures_are_told_apart_from_mismatches() {
    let k = key(DOC_KEY);
    let params = [("appid", "wxd930ea5d5a258f4f"), ("body", "test")];
    let check = |sig: &str, st| tenpay_sign::verify(params, &k, st, sig);
    let malformed = |reason| {
        Err(Error::MalformedSignature {
            sign_type: SignType::Md5,
            reason,
        })
    };
    assert_eq!(check("", SignType::Md5), malformed(Malformed::Empty));
    assert_eq!(
        check("ABC", SignType::Md5),
        malformed(Malformed::WrongLength {
            expected: 32,
            actual: 3
        })
    );
    assert_eq!(
        check(&"A".repeat(64), SignType::Md5),
        malformed(Malformed::WrongLength {
            expected: 32,
            actual: 64
        })
    );
    assert_eq!(
        check(&"g".repeat(32), SignType::Md5),
        malformed(Malformed::NotHex)
    );
    assert_eq!(
        check(&"a".repeat(32), SignType::Md5),
        malformed(Malformed::LowerCase)
    );
    assert_eq!(
        check(&"é".repeat(16), SignType::Md5),
        malformed(Malformed::NotHex)
    );
    assert_eq!(check(&"A".repeat(32), SignType::Md5), Err(Error::Mismatch));
    let good = tenpay_sign::sign(params, &k, SignType::Md5).unwrap();
    assert_eq!(check(good.as_str(), SignType::Md5), Ok(()));
    // The right MD5 checked as HMAC is malformed (length), not a mismatch.
    assert!(matches!(
        check(good.as_str(), SignType::HmacSha256),
        Err(Error::MalformedSignature { .. })
    ));
    // Lower-case versions of a correct signature are refused: the protocol sends upper case.
    assert!(matches!(
        check(&good.as_str().to_lowercase(), SignType::Md5),
        Err(Error::MalformedSignature { .. })
    ));
}

#[test]
fn duplicate_and_invalid_names_are_errors() {
    assert_eq!(
        Canonical::new([("a", "1"), ("a", "2")]).err(),
        Some(Error::DuplicateField("a".into()))
    );
    // A duplicate with an empty value is dropped before the check, like any empty value.
    assert!(Canonical::new([("a", "1"), ("a", "")]).is_ok());
    assert!(matches!(
        Canonical::new([("", "1")]),
        Err(Error::InvalidFieldName(_))
    ));
    assert!(matches!(
        Canonical::new([("a=b", "1")]),
        Err(Error::InvalidFieldName(_))
    ));
    assert!(matches!(
        Canonical::new([("a&b", "1")]),
        Err(Error::InvalidFieldName(_))
    ));
}

#[test]
fn inference_is_by_length_only() {
    assert_eq!(
        SignType::infer_from_signature_len(&"A".repeat(32)),
        Some(SignType::Md5)
    );
    assert_eq!(
        SignType::infer_from_signature_len(&"A".repeat(64)),
        Some(SignType::HmacSha256)
    );
    assert_eq!(SignType::infer_from_signature_len(&"A".repeat(33)), None);
    assert_eq!(SignType::infer_from_signature_len(""), None);
}

#[test]
fn long_and_odd_keys_work() {
    // HMAC keys longer than SHA-256's 64-byte block are hashed first; the signer must not care.
    let long = "k".repeat(200);
    let k = key(&long);
    let s = tenpay_sign::sign([("a", "b")], &k, SignType::HmacSha256).unwrap();
    tenpay_sign::verify([("a", "b")], &k, SignType::HmacSha256, s.as_str()).unwrap();
    let other = key(&"k".repeat(199));
    assert_ne!(
        tenpay_sign::sign([("a", "b")], &other, SignType::HmacSha256).unwrap(),
        s
    );
    assert_eq!(ApiKey::new("").err(), Some(Error::EmptyKey));
    assert_eq!(key("密钥").len(), 2);
}

#[test]
fn key_never_printed() {
    let secret = "192006250b4c09247ec02edce69f6a2d";
    let k = key(secret);
    let c = Canonical::new([("appid", "wx1"), ("body", "x")]).unwrap();
    let sig = c.sign(&k, SignType::Md5);
    let outputs = [
        format!("{k:?}"),
        format!("{k:#?}"),
        format!("{c}"),
        format!("{c:?}"),
        format!("{sig}"),
        format!("{sig:?}"),
        format!(
            "{:?}",
            tenpay_sign::verify([("a", "b")], &k, SignType::Md5, "x")
        ),
        format!(
            "{}",
            tenpay_sign::verify([("a", "b")], &k, SignType::Md5, &"A".repeat(32)).unwrap_err()
        ),
    ];
    for out in &outputs {
        assert!(!out.contains(secret), "key leaked in {out:?}");
        assert!(
            !out.contains("1920062"),
            "part of the key leaked in {out:?}"
        );
    }
    assert!(outputs[2].ends_with("&key=<redacted>"));
}

#[test]
fn errors_quote_hostile_input_briefly() {
    let huge = "X".repeat(100_000);
    let e = huge.parse::<SignType>().unwrap_err().to_string();
    assert!(e.len() < 300, "error text is {} bytes", e.len());
}

#[test]
fn signature_equality_compares_type_and_bytes() {
    let a = Signature::parse(&"A".repeat(32), SignType::Md5).unwrap();
    let b = Signature::parse(&"A".repeat(32), SignType::Md5).unwrap();
    let c = Signature::parse(&"B".repeat(32), SignType::Md5).unwrap();
    assert_eq!(a, b);
    assert_ne!(a, c);
    // Another algorithm is never equal, even over the same digits.
    let d = Signature::parse(&"A".repeat(64), SignType::HmacSha256).unwrap();
    assert_ne!(a, d);
    assert_ne!(d, a);
}

fn name() -> impl Strategy<Value = String> {
    "[a-zA-Z_][a-zA-Z0-9_]{0,12}".prop_filter("sign is dropped", |n| n != "sign")
}

fn message() -> impl Strategy<Value = std::collections::BTreeMap<String, String>> {
    // Arbitrary UTF-8 values: CJK, emoji, '&', '=', "]]>", spaces at the ends.
    let value = prop_oneof![
        "\\PC{1,16}",
        Just("支付测试 ".to_owned()),
        Just(" 😀&a=b]]>".to_owned()),
        "[ &=<>\\]]{1,5}",
    ];
    proptest::collection::btree_map(name(), value, 1..12)
}

fn sign_type() -> impl Strategy<Value = SignType> {
    prop_oneof![Just(SignType::Md5), Just(SignType::HmacSha256)]
}

proptest! {
    #[test]
    fn order_empty_values_and_sign_do_not_matter(m in message(), st in sign_type(), seed in any::<u64>()) {
        let k = key(DOC_KEY);
        let base = tenpay_sign::sign(&m, &k, st).unwrap();
        let mut shuffled: Vec<(&str, &str)> = m.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        // Deterministic shuffle from the seed.
        let mut s = seed;
        for i in (1..shuffled.len()).rev() {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            shuffled.swap(i, (s >> 33) as usize % (i + 1));
        }
        shuffled.push(("sign", "WHATEVER"));
        shuffled.push(("zz_empty_field", ""));
        prop_assert_eq!(tenpay_sign::sign(shuffled, &k, st).unwrap(), base);
    }

    #[test]
    fn any_change_changes_the_signature(m in message(), st in sign_type(), idx in any::<prop::sample::Index>(), extra in "\\PC{1,4}") {
        let k = key(DOC_KEY);
        let base = tenpay_sign::sign(&m, &k, st).unwrap();
        let mut changed = m.clone();
        let field = idx.get(&m.keys().cloned().collect::<Vec<_>>()).clone();
        changed.get_mut(&field).unwrap().push_str(&extra);
        prop_assert_ne!(&tenpay_sign::sign(&changed, &k, st).unwrap(), &base);
        let other = key("192006250b4c09247ec02edce69f6a2e");
        prop_assert_ne!(tenpay_sign::sign(&m, &other, st).unwrap(), base);
    }

    #[test]
    fn verify_accepts_what_sign_made(m in message(), st in sign_type(), k in "\\PC{1,80}") {
        let k = key(&k);
        let s = tenpay_sign::sign(&m, &k, st).unwrap();
        prop_assert_eq!(s.as_str().len(), st.hex_len());
        prop_assert!(tenpay_sign::verify(&m, &k, st, s.as_str()).is_ok());
        let reparsed = Signature::parse(s.as_str(), st).unwrap();
        prop_assert_eq!(reparsed, s);
    }

    #[test]
    fn verify_never_panics(m in message(), st in sign_type(), sig in "\\PC{0,70}") {
        let k = key(DOC_KEY);
        let _ = tenpay_sign::verify(&m, &k, st, &sig);
    }
}
