//! tenpay-notify core: verification, refusal cases, refund decryption, replies.
#![allow(clippy::unwrap_used, missing_docs)]

use tenpay_notify::{Error, Notification, Notifier, decrypt_req_info, encrypt_req_info};
use tenpay_sign::{ApiKey, Merchant, SignType};
use tenpay_xml::{Fen, RefundStatus, XmlMap};

const KEY: &str = "192006250b4c09247ec02edce69f6a2d";
const APPID: &str = "wx2421b1c4370ec43b";
const MCH: &str = "10000100";

fn key() -> ApiKey {
    ApiKey::new(KEY).unwrap()
}

fn testdata(path: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/../../testdata/{path}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn notifier(st: SignType) -> Notifier {
    Notifier::new(&Merchant::new(APPID, MCH, key(), st))
}

/// A payment notification as WeChat Pay sends it, signed with `st` (and `sign_type` when asked).
fn pay_body(st: SignType, with_sign_type: bool, edit: impl FnOnce(&mut XmlMap)) -> Vec<u8> {
    let mut m = XmlMap::new();
    for (k, v) in [
        ("return_code", "SUCCESS"),
        ("appid", APPID),
        ("mch_id", MCH),
        ("nonce_str", "5d2b6c2a8db53831f7eda20af46e531c"),
        ("result_code", "SUCCESS"),
        ("openid", "oUpF8uMEb4qRXf22hE3X68TekukE"),
        ("trade_type", "JSAPI"),
        ("bank_type", "CFT"),
        ("total_fee", "888"),
        ("cash_fee", "788"),
        ("coupon_fee", "100"),
        ("coupon_count", "1"),
        ("coupon_id_0", "10000"),
        ("coupon_fee_0", "100"),
        ("coupon_type_0", "CASH"),
        ("transaction_id", "1004400740201409030005092168"),
        ("out_trade_no", "1409811653"),
        ("attach", "支付测试 <&> ]]>"),
        ("time_end", "20140903131540"),
        ("brand_new_field", "kept and signed"),
    ] {
        m.insert(k, v).unwrap();
    }
    if with_sign_type {
        m.insert("sign_type", st.as_str()).unwrap();
    }
    m.sign(&key(), st).unwrap();
    edit(&mut m);
    m.to_xml().into_bytes()
}

fn pay(n: &Notifier, body: &[u8]) -> Result<tenpay_notify::PayNotification, Error> {
    match n.handle(body)? {
        Notification::Pay(p) => Ok(*p),
        other => panic!("expected a payment notification, got {other:?}"),
    }
}

#[test]
fn valid_notifications_verify_with_both_algorithms_with_and_without_sign_type() {
    for st in [SignType::Md5, SignType::HmacSha256] {
        for with in [false, true] {
            let p = pay(&notifier(st), &pay_body(st, with, |_| {})).unwrap();
            assert_eq!(p.out_trade_no(), "1409811653");
            assert_eq!(p.total_fee(), Fen::new(888));
            assert_eq!(p.cash_fee(), Some(Fen::new(788)));
            assert_eq!(p.attach(), Some("支付测试 <&> ]]>"));
            assert_eq!(p.coupons().len(), 1);
            assert_eq!(p.coupons()[0].coupon_fee, Fen::new(100));
            assert_eq!(p.time_end().unwrap().to_string(), "20140903131540");
            assert!(p.is_success());
            assert_eq!(
                p.unknown_fields().get("brand_new_field"),
                Some(&"kept and signed")
            );
        }
    }
}

#[test]
fn bench_fixture_and_settlement() {
    let p = pay(&notifier(SignType::Md5), &testdata("bench/pay_notify.xml")).unwrap();
    assert_eq!(p.total_fee(), Fen::new(88));
    assert_eq!(p.settlement_total_fee(), Some(Fen::new(88)));
    assert_eq!(
        p.clone().settle(Fen::new(89)),
        Err(Error::AmountMismatch {
            expected: Fen::new(89),
            received: Fen::new(88)
        })
    );
    let settled = p.settle(Fen::new(88)).unwrap();
    assert_eq!(
        settled.transaction_id.as_deref(),
        Some("1004400740201409030005092168")
    );
}

#[test]
fn failed_payment_is_a_verified_notification_not_an_error() {
    let body = pay_body(SignType::Md5, false, |m| {
        m.insert("result_code", "FAIL").unwrap();
        m.insert("err_code", "NOTENOUGH").unwrap();
        m.sign(&key(), SignType::Md5).unwrap();
    });
    let p = pay(&notifier(SignType::Md5), &body).unwrap();
    assert!(!p.is_success());
    assert_eq!(p.err_code(), Some(tenpay_notify::ErrCode::NotEnough));
    let e = p.settle(Fen::new(888)).unwrap_err();
    assert_eq!(
        e,
        Error::PaymentFailed {
            err_code: Some(tenpay_notify::ErrCode::NotEnough)
        }
    );
    assert_eq!(
        e.to_string(),
        "the payment failed (err_code NOTENOUGH); nothing to settle"
    );
}

#[test]
fn ids_are_typed_and_a_signed_malformed_out_trade_no_is_refused() {
    let p = pay(
        &notifier(SignType::Md5),
        &pay_body(SignType::Md5, false, |_| {}),
    )
    .unwrap();
    let no: &tenpay_notify::OutTradeNo = p.out_trade_no();
    assert_eq!(no.as_str(), p.raw().get("out_trade_no").unwrap());
    // Even correctly signed, a number WeChat Pay would never have accepted is not acted on.
    let body = pay_body(SignType::Md5, false, |m| {
        m.insert("out_trade_no", "1217752501 DROP").unwrap();
        m.sign(&key(), SignType::Md5).unwrap();
    });
    match refused(&notifier(SignType::Md5), &body) {
        Error::Field(tenpay_xml::Error::InvalidValue { field, reason }) => {
            assert_eq!(field, "out_trade_no");
            assert!(reason.contains("OutTradeNo must be 1 to 32"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
}

fn refused(n: &Notifier, body: &[u8]) -> Error {
    n.handle(body).expect_err("must be refused")
}

#[test]
fn forgeries_and_tampering_are_refused() {
    let n = notifier(SignType::Md5);
    let md5 = |edit: fn(&mut XmlMap)| pay_body(SignType::Md5, false, edit);
    assert_eq!(
        refused(&n, &md5(|m| assert!(m.remove("sign")))),
        Error::Unsigned
    );
    assert_eq!(
        refused(&n, &md5(|m| m.insert("sign", "").unwrap())),
        Error::Unsigned
    );
    assert!(matches!(
        refused(
            &n,
            &md5(|m| {
                let lower = m.get("sign").unwrap().to_lowercase();
                m.insert("sign", &lower).unwrap();
            })
        ),
        Error::Signature(tenpay_sign::Error::MalformedSignature { .. })
    ));
    let flip = |m: &mut XmlMap| {
        let mut s = m.get("sign").unwrap().to_owned();
        let last = if s.ends_with('0') { "1" } else { "0" };
        s.replace_range(31..32, last);
        m.insert("sign", &s).unwrap();
    };
    assert_eq!(
        refused(&n, &md5(flip)),
        Error::Signature(tenpay_sign::Error::Mismatch)
    );
    assert_eq!(
        refused(&n, &md5(|m| m.insert("total_fee", "1").unwrap())),
        Error::Signature(tenpay_sign::Error::Mismatch)
    );
    assert_eq!(
        refused(&n, &md5(|m| m.insert("extra", "x").unwrap())),
        Error::Signature(tenpay_sign::Error::Mismatch)
    );
    assert_eq!(
        refused(&n, &md5(|m| assert!(m.remove("attach")))),
        Error::Signature(tenpay_sign::Error::Mismatch)
    );
    // sign_type added after signing (claims MD5 but was not signed): mismatch.
    assert_eq!(
        refused(&n, &md5(|m| m.insert("sign_type", "MD5").unwrap())),
        Error::Signature(tenpay_sign::Error::Mismatch)
    );
    // Unsupported sign_type.
    assert!(matches!(
        refused(&n, &md5(|m| m.insert("sign_type", "SHA1").unwrap())),
        Error::SignTypeMismatch { .. }
    ));
    // Signed with another key.
    let other = pay_body(SignType::Md5, false, |m| {
        m.sign(&ApiKey::new("another-key").unwrap(), SignType::Md5)
            .unwrap()
    });
    assert_eq!(
        refused(&n, &other),
        Error::Signature(tenpay_sign::Error::Mismatch)
    );
    // Duplicate <total_fee>: refused by the reader before anything is used.
    let body = String::from_utf8(md5(|_| {})).unwrap().replace(
        "<total_fee>888</total_fee>",
        "<total_fee>888</total_fee><total_fee>1</total_fee>",
    );
    assert!(matches!(
        refused(&n, body.as_bytes()),
        Error::Xml(tenpay_xml::Error::DuplicateField(_))
    ));
    // Hostile XML.
    assert!(matches!(
        refused(
            &n,
            b"<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><xml><a>&e;</a></xml>"
        ),
        Error::Xml(_)
    ));
    // return_code=FAIL.
    assert!(matches!(
        refused(
            &n,
            b"<xml><return_code>FAIL</return_code><return_msg>x</return_msg></xml>"
        ),
        Error::ReturnFailure { .. }
    ));
}

#[test]
fn no_downgrade_and_opt_in_inference() {
    // An HMAC merchant refuses an MD5-signed notification, with or without a sign_type field.
    let hmac = notifier(SignType::HmacSha256);
    assert!(matches!(
        refused(&hmac, &pay_body(SignType::Md5, true, |_| {})),
        Error::SignTypeMismatch { .. }
    ));
    assert!(matches!(
        refused(&hmac, &pay_body(SignType::Md5, false, |_| {})),
        Error::Signature(tenpay_sign::Error::MalformedSignature { .. })
    ));
    // sign_type changed after signing (HMAC-signed message relabelled MD5).
    let relabelled = pay_body(SignType::HmacSha256, true, |m| {
        m.insert("sign_type", "MD5").unwrap()
    });
    assert!(matches!(
        refused(&hmac, &relabelled),
        Error::SignTypeMismatch { .. }
    ));
    // Merchants who use both opt in explicitly.
    let both = notifier(SignType::HmacSha256).infer_sign_type_from_length();
    pay(&both, &pay_body(SignType::Md5, false, |_| {})).unwrap();
    pay(&both, &pay_body(SignType::HmacSha256, true, |_| {})).unwrap();
}

#[test]
fn foreign_merchants_are_refused() {
    let sign_with = |field: &'static str, value: &'static str| {
        pay_body(SignType::Md5, false, move |m| {
            m.insert(field, value).unwrap();
            m.sign(&key(), SignType::Md5).unwrap();
        })
    };
    let n = notifier(SignType::Md5);
    assert!(matches!(
        refused(&n, &sign_with("appid", "wxother")),
        Error::ForeignMerchant { field: "appid", .. }
    ));
    assert!(matches!(
        refused(&n, &sign_with("mch_id", "999")),
        Error::ForeignMerchant {
            field: "mch_id",
            ..
        }
    ));
    let sp = Notifier::new(
        &Merchant::new(APPID, MCH, key(), SignType::Md5).with_sub_merchant("1900000109", None),
    );
    assert!(matches!(
        refused(&sp, &sign_with("sub_mch_id", "42")),
        Error::ForeignMerchant {
            field: "sub_mch_id",
            ..
        }
    ));
    pay(&sp, &sign_with("sub_mch_id", "1900000109")).unwrap();
}

#[test]
fn refund_vectors_decrypt() {
    let vectors: serde_json::Value =
        serde_json::from_str(include_str!("data/req_info_vectors.json")).unwrap();
    let vectors = vectors.as_array().unwrap();
    assert_eq!(vectors.len(), 4);
    for v in vectors {
        let k = ApiKey::new(v["key"].as_str().unwrap()).unwrap();
        let plain = decrypt_req_info(&k, v["req_info"].as_str().unwrap()).unwrap();
        let root = v["root"].as_str().unwrap();
        let map = tenpay_xml::Parser::new().root(root).parse(&plain).unwrap();
        if let Some(p) = v.get("plaintext") {
            assert_eq!(plain, p.as_str().unwrap().as_bytes());
        }
        for field in ["out_refund_no", "refund_fee"] {
            if let Some(expected) = v.get(field) {
                assert_eq!(map.get(field), expected.as_str(), "{}", v["source"]);
            }
        }
        // The wrong key is its own error.
        let wrong = ApiKey::new("00000000000000000000000000000000").unwrap();
        assert_eq!(
            decrypt_req_info(&wrong, v["req_info"].as_str().unwrap()),
            Err(Error::WrongKey),
            "{}",
            v["source"]
        );
    }
}

#[test]
fn refund_notification_fixture_end_to_end() {
    let body = testdata("protocol/refund_notify_wechatpy.xml");
    let body = &body[body.iter().position(|&b| b == b'\n').unwrap() + 1..];
    let n = Notifier::new(&Merchant::new(
        "wx4f4bc4dec97d474b",
        "12345678",
        ApiKey::new("OF4Ne3znh8KqL0V4NqmALQa0uXMYKcEk").unwrap(),
        SignType::Md5,
    ));
    let Notification::Refund(r) = n.handle(body).unwrap() else {
        panic!("not a refund")
    };
    let plain = testdata("protocol/refund_notify_wechatpy.req_info.decrypted.xml");
    let plain = tenpay_xml::Parser::new()
        .root("root")
        .parse(&plain[plain.iter().position(|&b| b == b'\n').unwrap() + 1..])
        .unwrap();
    assert_eq!(r.raw, plain);
    assert_eq!(r.out_refund_no, plain.get("out_refund_no").unwrap());
    assert_eq!(r.refund_fee.to_string(), plain.get("refund_fee").unwrap());
    assert_eq!(r.mch_id, "12345678");
    // Wrong key; foreign merchant; missing req_info; FAIL envelope.
    let wrong = Notifier::new(&Merchant::new(
        "wx4f4bc4dec97d474b",
        "12345678",
        key(),
        SignType::Md5,
    ));
    assert_eq!(wrong.handle(body), Err(Error::WrongKey));
    let foreign = Notifier::new(&Merchant::new(
        "wxother",
        "12345678",
        ApiKey::new("OF4Ne3znh8KqL0V4NqmALQa0uXMYKcEk").unwrap(),
        SignType::Md5,
    ));
    assert!(matches!(
        foreign.handle(body),
        Err(Error::ForeignMerchant { field: "appid", .. })
    ));
    assert_eq!(n.refund(b"<xml><return_code>SUCCESS</return_code><appid>wx4f4bc4dec97d474b</appid><mch_id>12345678</mch_id></xml>"), Err(Error::MissingReqInfo));
    assert!(matches!(
        n.handle(b"<xml><return_code>FAIL</return_code><return_msg>oops</return_msg></xml>"),
        Err(Error::ReturnFailure { .. })
    ));
}

#[test]
fn refund_bad_padding_truncated_base64_and_round_trip() {
    let k = key();
    let n = notifier(SignType::Md5);
    let envelope = |req_info: &str| {
        format!(
            "<xml><return_code>SUCCESS</return_code><appid>{APPID}</appid><mch_id>{MCH}</mch_id><nonce_str>n</nonce_str><req_info>{req_info}</req_info></xml>"
        )
    };
    let payload = "<root><transaction_id>4200</transaction_id><out_trade_no>T1</out_trade_no><refund_id>5030</refund_id><out_refund_no>R1</out_refund_no>\
        <total_fee>888</total_fee><refund_fee>100</refund_fee><settlement_refund_fee>100</settlement_refund_fee><refund_status>SUCCESS</refund_status>\
        <success_time>2017-12-13 16:47:45</success_time><refund_recv_accout>支付用户零钱</refund_recv_accout><refund_account>REFUND_SOURCE_UNSETTLED_FUNDS</refund_account><refund_request_source>API</refund_request_source></root>";
    let good = encrypt_req_info(&k, payload.as_bytes());
    let Notification::Refund(r) = n.handle(envelope(&good).as_bytes()).unwrap() else {
        panic!()
    };
    assert_eq!(r.refund_status, RefundStatus::Success);
    assert_eq!(r.refund_fee, Fen::new(100));
    assert_eq!(r.success_time.unwrap().to_string(), "2017-12-13 16:47:45");

    // Truncated base64 and a ciphertext that is not whole blocks: malformed, not "wrong key".
    assert_eq!(
        n.handle(envelope(&good[..good.len() - 3]).as_bytes()),
        Err(Error::MalformedReqInfo)
    );
    assert_eq!(
        n.handle(envelope("!!notbase64!!").as_bytes()),
        Err(Error::MalformedReqInfo)
    );
    use base64::Engine as _;
    let mut bytes = base64::prelude::BASE64_STANDARD.decode(&good).unwrap();
    bytes.truncate(bytes.len() - 5);
    let partial = base64::prelude::BASE64_STANDARD.encode(&bytes);
    assert_eq!(
        n.handle(envelope(&partial).as_bytes()),
        Err(Error::MalformedReqInfo)
    );
    // Bad padding: the last block replaced by the encryption of 16 bytes with an invalid pad.
    let mut bad = base64::prelude::BASE64_STANDARD.decode(&good).unwrap();
    let pad_block = base64::prelude::BASE64_STANDARD
        .decode(encrypt_req_info(&k, &[0x00; 16]))
        .unwrap();
    let len = bad.len();
    bad[len - 16..].copy_from_slice(&pad_block[..16]);
    let bad = base64::prelude::BASE64_STANDARD.encode(&bad);
    assert_eq!(n.handle(envelope(&bad).as_bytes()), Err(Error::WrongKey));
}

#[test]
fn replies_are_exact_bytes() {
    let fixture = testdata("protocol/notify_ack_success.xml");
    let fixture = &fixture[fixture.iter().position(|&b| b == b'\n').unwrap() + 1..];
    assert_eq!(tenpay_notify::ACK, fixture.trim_ascii());
    assert_eq!(
        tenpay_notify::ACK,
        b"<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>"
    );
    let nack = tenpay_notify::nack("签名错误 & <x>\u{0}");
    let back = XmlMap::parse(&nack).unwrap();
    assert_eq!(back.get("return_code"), Some("FAIL"));
    assert_eq!(back.get("return_msg"), Some("签名错误 & <x>?"));
}

#[test]
fn errors_and_debug_never_show_the_key() {
    let n = notifier(SignType::Md5);
    let dbg = format!("{n:?}");
    assert!(!dbg.contains(KEY), "{dbg}");
    // The derived AES key (hex MD5 of the key) must not show either.
    assert!(!dbg.contains("d96eb16afdd4"), "{dbg}");
    let e = refused(
        &n,
        &pay_body(SignType::Md5, false, |m| {
            m.insert("total_fee", "1").unwrap()
        }),
    );
    assert!(!e.to_string().contains(KEY));
}

#[test]
fn coupon_fields_are_checked() {
    let n = notifier(SignType::Md5);
    let signed = |edit: fn(&mut XmlMap)| {
        pay_body(SignType::Md5, false, |m| {
            edit(m);
            m.sign(&key(), SignType::Md5).unwrap();
        })
    };
    // An index at or past coupon_count, a huge index, a missing fee: errors, not silently dropped.
    assert!(matches!(
        refused(&n, &signed(|m| m.insert("coupon_id_1", "x").unwrap())),
        Error::Field(_)
    ));
    assert!(matches!(
        refused(&n, &signed(|m| m.insert("coupon_id_5000", "x").unwrap())),
        Error::Field(_)
    ));
    assert!(matches!(
        refused(&n, &signed(|m| assert!(m.remove("coupon_fee_0")))),
        Error::Field(_)
    ));
    assert!(matches!(
        refused(&n, &signed(|m| m.insert("coupon_count", "-1").unwrap())),
        Error::Field(_)
    ));
    // Without coupon_count the coupons are counted from their indexes.
    let p = pay(&n, &signed(|m| assert!(m.remove("coupon_count")))).unwrap();
    assert_eq!(p.coupons().len(), 1);
    // No coupons at all.
    let p = pay(
        &n,
        &signed(|m| {
            for f in [
                "coupon_count",
                "coupon_id_0",
                "coupon_fee_0",
                "coupon_type_0",
                "coupon_fee",
            ] {
                m.remove(f);
            }
        }),
    )
    .unwrap();
    assert!(p.coupons().is_empty());
    // A bad amount names its field (in the cause: each error displays its own layer only).
    let e = refused(&n, &signed(|m| m.insert("cash_fee", "7.88").unwrap()));
    let cause = std::error::Error::source(&e)
        .map(ToString::to_string)
        .unwrap_or_default();
    assert!(cause.contains("cash_fee"), "{e}: {cause}");
}

/// One notify URL for several merchants: each notification is verified with the key of the
/// merchant it names, and only that one.
#[test]
fn several_merchants_behind_one_notifier() {
    let other_key = ApiKey::new("another-merchant-key-000000000000").unwrap();
    let n = notifier(SignType::HmacSha256)
        .merchant(&Merchant::new(
            "wx0000000000000002",
            "10000200",
            other_key.clone(),
            SignType::Md5,
        ))
        .merchant(
            &Merchant::new(APPID, "1900000100", key(), SignType::Md5)
                .with_sub_merchant("1900000109", None),
        )
        .merchant(
            &Merchant::new(APPID, "1900000100", other_key.clone(), SignType::Md5)
                .with_sub_merchant("1900000110", None),
        );
    // Merchant 1, as before.
    let p = pay(&n, &pay_body(SignType::HmacSha256, true, |_| {})).unwrap();
    assert_eq!(p.mch_id(), MCH);
    // Merchant 2: its ids, its key, its algorithm.
    let body_for = |appid: &str, mch: &str, sub: Option<&str>, k: &ApiKey, st: SignType| {
        let mut m = XmlMap::new();
        for (f, v) in [
            ("return_code", "SUCCESS"),
            ("appid", appid),
            ("mch_id", mch),
            ("result_code", "SUCCESS"),
            ("total_fee", "5"),
            ("transaction_id", "4200000000000000000000000002"),
            ("out_trade_no", "M2"),
            ("nonce_str", "n"),
        ] {
            m.insert(f, v).unwrap();
        }
        if let Some(s) = sub {
            m.insert("sub_mch_id", s).unwrap();
        }
        m.sign(k, st).unwrap();
        m.to_xml().into_bytes()
    };
    let p = pay(
        &n,
        &body_for(
            "wx0000000000000002",
            "10000200",
            None,
            &other_key,
            SignType::Md5,
        ),
    )
    .unwrap();
    assert_eq!((p.appid(), p.mch_id()), ("wx0000000000000002", "10000200"));
    // Merchant 2's ids signed with merchant 1's key: refused, never verified with another key.
    assert!(matches!(
        refused(
            &n,
            &body_for(
                "wx0000000000000002",
                "10000200",
                None,
                &key(),
                SignType::Md5
            )
        ),
        Error::Signature(_)
    ));
    // A provider's sub-merchants are routed by sub_mch_id, each with its own key.
    for (sub, k) in [("1900000109", key()), ("1900000110", other_key.clone())] {
        let p = pay(
            &n,
            &body_for(APPID, "1900000100", Some(sub), &k, SignType::Md5),
        )
        .unwrap();
        assert_eq!(p.sub_mch_id(), Some(sub));
    }
    assert!(matches!(
        refused(
            &n,
            &body_for(
                APPID,
                "1900000100",
                Some("1900000111"),
                &key(),
                SignType::Md5
            )
        ),
        Error::ForeignMerchant {
            field: "sub_mch_id",
            ..
        }
    ));
    // No configured merchant: refused by its ids.
    assert!(matches!(
        refused(
            &n,
            &body_for("wx9999999999999999", MCH, None, &key(), SignType::Md5)
        ),
        Error::ForeignMerchant { field: "appid", .. }
    ));
    // Refund notifications too: merchant 2's is decrypted with merchant 2's key.
    let plain = b"<root><transaction_id>1</transaction_id><out_trade_no>M2</out_trade_no><refund_id>2</refund_id>\
        <out_refund_no>R2</out_refund_no><total_fee>5</total_fee><refund_fee>5</refund_fee><refund_status>SUCCESS</refund_status></root>";
    let refund_body = |mch: &str, k: &ApiKey| {
        format!(
            "<xml><return_code>SUCCESS</return_code><appid>wx0000000000000002</appid><mch_id>{mch}</mch_id><nonce_str>n</nonce_str><req_info>{}</req_info></xml>",
            encrypt_req_info(k, plain)
        )
    };
    let Notification::Refund(r) = n
        .handle(refund_body("10000200", &other_key).as_bytes())
        .unwrap()
    else {
        panic!("not a refund")
    };
    assert_eq!(
        (r.mch_id.as_str(), r.out_refund_no.as_str()),
        ("10000200", "R2")
    );
    assert!(
        n.handle(refund_body("10000200", &key()).as_bytes())
            .is_err()
    );
}

/// The types users hold across tasks are `Send + Sync`.
#[test]
fn public_types_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Notifier>();
    check::<Notification>();
    check::<Error>();
    check::<tenpay_notify::PayNotification>();
}

/// Errors display their own layer; the cause is their `source()`, never printed twice.
#[test]
fn errors_do_not_print_their_cause_twice() {
    let n = notifier(SignType::Md5);
    let malformed = refused(&n, b"<xml><a>1</a><a>2</a></xml>");
    let forged = refused(
        &n,
        &pay_body(SignType::Md5, false, |m| {
            m.insert("total_fee", "1").unwrap()
        }),
    );
    for e in [malformed, forged] {
        let source = std::error::Error::source(&e).expect("a cause").to_string();
        assert!(!e.to_string().contains(&source), "{e} repeats {source}");
    }
}

/// A contract notification (papay) as WeChat Pay documents it, signed with `st`.
fn contract_body(st: SignType, change: &str, edit: impl FnOnce(&mut XmlMap)) -> Vec<u8> {
    let mut m = XmlMap::new();
    for (k, v) in [
        ("return_code", "SUCCESS"),
        ("return_msg", "OK"),
        ("result_code", "SUCCESS"),
        ("mch_id", MCH),
        ("contract_code", "SUB20261201"),
        ("plan_id", "12535"),
        ("openid", "oSubscriber000000000000000001"),
        ("change_type", change),
        ("operate_time", "2026-12-01 10:00:00"),
        ("contract_id", "201612010000000001"),
        ("contract_expired_time", "2031-12-01 10:00:00"),
        ("request_serial", "1001"),
    ] {
        m.insert(k, v).unwrap();
    }
    m.sign(&key(), st).unwrap();
    edit(&mut m);
    m.to_xml().into_bytes()
}

#[test]
fn contract_notifications_are_verified_like_payments() {
    let n = notifier(SignType::Md5);
    let body = contract_body(SignType::Md5, "ADD", |_| {});
    let Notification::Contract(c) = n.handle(&body).unwrap() else {
        panic!("not a contract notification")
    };
    assert_eq!(c.change(), &tenpay_notify::ContractChange::Add);
    assert_eq!(c.contract_code(), "SUB20261201");
    assert_eq!(c.openid(), Some("oSubscriber000000000000000001"));
    assert!(c.is_success());
    // Replayed: the same verified contract (deduplicating by contract_id is the
    // application's), never a different one.
    let again = n.contract(&body).unwrap();
    assert_eq!(&again, c.as_ref());
    // Forged: a field changed after signing, or no signature at all.
    let forged = contract_body(SignType::Md5, "ADD", |m| {
        m.insert("openid", "oAttacker").unwrap()
    });
    assert!(matches!(n.contract(&forged), Err(Error::Signature(_))));
    let unsigned = contract_body(SignType::Md5, "DELETE", |m| {
        m.remove("sign");
    });
    assert!(matches!(n.contract(&unsigned), Err(Error::Unsigned)));
    // Downgraded: an HMAC merchant refuses an MD5-signed contract notification, and a
    // relabelled sign_type.
    let hmac = notifier(SignType::HmacSha256);
    assert!(hmac.contract(&body).is_err());
    let relabelled = contract_body(SignType::HmacSha256, "ADD", |m| {
        m.insert("sign_type", "MD5").unwrap()
    });
    assert!(matches!(
        hmac.contract(&relabelled),
        Err(Error::SignTypeMismatch { .. })
    ));
    assert!(
        hmac.contract(&contract_body(SignType::HmacSha256, "DELETE", |_| {}))
            .is_ok()
    );
    // Another merchant's.
    let other = contract_body(SignType::Md5, "ADD", |m| {
        m.insert("mch_id", "999").unwrap();
        m.sign(&key(), SignType::Md5).unwrap();
    });
    assert!(matches!(
        n.contract(&other),
        Err(Error::ForeignMerchant {
            field: "mch_id",
            ..
        })
    ));
    // A deduction's result is a payment notification, through the same verifier.
    let deduction = pay_body(SignType::Md5, false, |m| {
        m.insert("trade_type", "PAP").unwrap();
        m.insert("contract_id", "201612010000000001").unwrap();
        m.sign(&key(), SignType::Md5).unwrap();
    });
    assert!(matches!(
        n.handle(&deduction).unwrap(),
        Notification::Pay(_)
    ));
}
