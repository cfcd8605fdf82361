//! Integration tests for tenpay-xml: fixtures, the hostile-input suite, round trips, the
//! quick-xml differential, serde and the value types.
#![allow(clippy::unwrap_used, missing_docs)]

mod oracle;

use std::collections::BTreeMap;

use proptest::prelude::*;
use serde::{Deserialize, Serialize};
use tenpay_sign::{ApiKey, SignType};
use tenpay_xml::{
    BeijingDateTime, BeijingTime, Currency, Error, Fen, Parser, RefundStatus, TradeState,
    TradeType, XmlMap, indexed,
};

const DOC_KEY: &str = "192006250b4c09247ec02edce69f6a2d";

fn testdata(path: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/../../testdata/{path}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// A protocol fixture without its first line (a source comment).
fn fixture(name: &str) -> Vec<u8> {
    let raw = testdata(&format!("protocol/{name}"));
    let start = raw.iter().position(|&b| b == b'\n').unwrap() + 1;
    raw[start..].to_vec()
}

fn key() -> ApiKey {
    ApiKey::new(DOC_KEY).unwrap()
}

#[test]
fn every_xml_fixture_parses_and_agrees_with_quick_xml() {
    let dir = format!("{}/../../testdata/protocol", env!("CARGO_MANIFEST_DIR"));
    let mut count = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if !name.ends_with(".xml") {
            continue;
        }
        let body = fixture(&name);
        let root = if name.contains("decrypted") {
            "root"
        } else {
            "xml"
        };
        let map = Parser::new()
            .root(root)
            .parse(&body)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!map.is_empty(), "{name}");
        let theirs = oracle::quick_xml_fields(std::str::from_utf8(&body).unwrap(), root).unwrap();
        let ours: Vec<(String, String)> = map.iter().map(|(k, v)| (k.into(), v.into())).collect();
        assert_eq!(ours, theirs, "{name}");
        count += 1;
    }
    assert_eq!(count, 13);
}

#[test]
fn fixtures_the_reference_marks_as_verifying_verify() {
    for name in [
        "unifiedorder_request_app.xml",
        "unifiedorder_response_app.xml",
        "orderquery_response_success.xml",
        "closeorder_response.xml",
        "refund_response.xml",
        "refundquery_response.xml",
    ] {
        let map = XmlMap::parse(&fixture(name)).unwrap();
        map.verify(&key(), SignType::Md5)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(matches!(
            map.verify(&key(), SignType::HmacSha256),
            Err(Error::Sign(tenpay_sign::Error::MalformedSignature { .. }))
        ));
    }
    let bench = XmlMap::parse(&testdata("bench/pay_notify.xml")).unwrap();
    assert_eq!(bench.len(), 24);
    bench.verify(&key(), SignType::Md5).unwrap();
}

#[test]
fn coupon_notify_fixture_resigns_to_the_reference_values() {
    let mut map = XmlMap::parse(&fixture("pay_notify_with_coupons.xml")).unwrap();
    // The fixture's own sign is the doc placeholder.
    assert_eq!(
        map.verify(&key(), SignType::Md5),
        Err(Error::Sign(tenpay_sign::Error::Mismatch))
    );
    assert!(map.canonical_string().starts_with(
        "appid=wx2421b1c4370ec43b&attach=支付测试&bank_type=CFT&coupon_count=2&coupon_fee_0=100"
    ));
    map.sign(&key(), SignType::Md5).unwrap();
    assert_eq!(map.get("sign"), Some("B9229816F48B92AF49CBBCC9AA5B35BD"));
    map.sign(&key(), SignType::HmacSha256).unwrap();
    assert_eq!(
        map.get("sign"),
        Some("D73AF228BF689511B43F47D93A70A6132CF8D81E91DF536924098EB8F01F16D7")
    );
    map.verify(&key(), SignType::HmacSha256).unwrap();
}

fn variant(e: &Error) -> &'static str {
    match e {
        Error::TooLarge { .. } => "TooLarge",
        Error::TooManyFields { .. } => "TooManyFields",
        Error::NotUtf8 { .. } => "NotUtf8",
        Error::Doctype { .. } => "Doctype",
        Error::Unsupported { .. } => "Unsupported",
        Error::BadReference { .. } => "BadReference",
        Error::InvalidChar { .. } => "InvalidChar",
        Error::Nested { .. } => "Nested",
        Error::DuplicateField(_) => "DuplicateField",
        Error::WrongRoot { .. } => "WrongRoot",
        Error::TextOutsideElements { .. } => "TextOutsideElements",
        Error::TrailingContent { .. } => "TrailingContent",
        Error::UnexpectedEof => "UnexpectedEof",
        Error::MismatchedTag { .. } => "MismatchedTag",
        Error::Syntax { .. } => "Syntax",
        _ => "other",
    }
}

#[test]
fn hostile_inputs_give_their_typed_errors() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/hostile");
    let manifest = std::fs::read_to_string(format!("{dir}/EXPECTED")).unwrap();
    let mut n = 0;
    for line in manifest.lines().filter(|l| !l.starts_with('#')) {
        let (file, expected) = line.split_once(' ').unwrap();
        let body = std::fs::read(format!("{dir}/{file}")).unwrap();
        let err = XmlMap::parse(&body).expect_err(file);
        assert_eq!(variant(&err), expected, "{file}: got {err}");
        // Errors stay short whatever the input.
        assert!(err.to_string().len() < 200, "{file}");
        n += 1;
    }
    assert!(n >= 30);
}

#[test]
fn ten_thousand_deep_nesting_is_refused_at_the_first_level() {
    let body = format!(
        "<xml>{}{}</xml>",
        "<a>".repeat(10_000),
        "</a>".repeat(10_000)
    );
    assert!(matches!(
        Parser::new().max_bytes(1 << 20).parse(body.as_bytes()),
        Err(Error::Nested { .. })
    ));
}

#[test]
fn oversize_body_is_refused_before_reading() {
    let mut body = b"<xml><a>".to_vec();
    body.resize(10 * 1024 * 1024, b'x');
    assert_eq!(
        XmlMap::parse(&body),
        Err(Error::TooLarge {
            limit: tenpay_xml::DEFAULT_MAX_BYTES,
            actual: 10 * 1024 * 1024
        })
    );
    // Even invalid UTF-8 past the limit is not looked at: the size check comes first.
    body.push(0xff);
    assert!(matches!(XmlMap::parse(&body), Err(Error::TooLarge { .. })));
    let fields: String = (0..600).map(|i| format!("<f{i}>1</f{i}>")).collect();
    let many = format!("<xml>{fields}</xml>");
    assert_eq!(
        Parser::new().parse(many.as_bytes()),
        Err(Error::TooManyFields { limit: 512 })
    );
    assert_eq!(
        Parser::new()
            .max_fields(600)
            .parse(many.as_bytes())
            .unwrap()
            .len(),
        600
    );
}

#[test]
fn accepted_forms() {
    let body = "\u{FEFF}<?xml version=\"1.0\" encoding=\"utf-8\" standalone='yes'?>\n<xml>\n  <a><![CDATA[x]]> &lt;&#x4E2D;&#25991;&amp;<![CDATA[]]]]><![CDATA[>]]></a>\r\n  <b/>\n  <c></c>\n  <d> padded\r </d >\n</xml >\n";
    let m = XmlMap::parse(body.as_bytes()).unwrap();
    let pairs: Vec<_> = m.iter().collect();
    assert_eq!(
        pairs,
        [
            ("a", "x <中文&]]>"),
            ("b", ""),
            ("c", ""),
            ("d", " padded\r "),
        ]
    );
    assert_eq!(XmlMap::parse(b"<xml/>").unwrap().len(), 0);
    assert_eq!(
        oracle::quick_xml_fields(body.trim_start_matches('\u{FEFF}'), "xml")
            .unwrap()
            .len(),
        4
    );
}

#[test]
fn writer_keeps_values_exact() {
    let mut m = XmlMap::new();
    m.insert("attach", "x]]><total_fee>1</total_fee><![CDATA[")
        .unwrap();
    m.insert("cr", "line1\r\nline2\r").unwrap();
    m.insert("json", r#"{"a":"<b>&c"}"#).unwrap();
    m.insert("plain", "支付 测试 ").unwrap();
    let xml = m.to_xml();
    let back = XmlMap::parse(xml.as_bytes()).unwrap();
    assert_eq!(back, m);
    assert_eq!(back.len(), 4, "a ]]> value injected a field: {xml}");
    assert!(xml.contains("<cr>line1&#13;\nline2&#13;</cr>"));
    // quick-xml reads our output the same way.
    let theirs = oracle::quick_xml_fields(&xml, "xml").unwrap();
    assert_eq!(theirs.len(), 4);
    assert_eq!(theirs[0].1, "x]]><total_fee>1</total_fee><![CDATA[");
    // Deterministic.
    assert_eq!(m.clone().to_xml(), xml);
}

#[test]
fn unrepresentable_values_and_bad_names_are_errors() {
    let mut m = XmlMap::new();
    assert_eq!(
        m.insert("a", "x\u{0}"),
        Err(Error::UnrepresentableValue("a".into()))
    );
    assert_eq!(
        m.insert("a", "\u{1b}[31m"),
        Err(Error::UnrepresentableValue("a".into()))
    );
    assert_eq!(
        m.insert("a", "\u{FFFE}"),
        Err(Error::UnrepresentableValue("a".into()))
    );
    for bad in ["", "1a", "a b", "a<b", "x:y", "名字", "a>"] {
        assert!(
            matches!(m.insert(bad, "v"), Err(Error::InvalidName(_))),
            "{bad:?}"
        );
    }
    assert!(m.is_empty(), "nothing half-applied");
    m.insert("a", "1").unwrap();
    m.insert("a", "2").unwrap();
    assert_eq!(m.len(), 1);
    assert_eq!(m.get("a"), Some("2"));
    assert!(m.remove("a"));
    assert!(!m.remove("a"));
}

#[test]
fn sign_and_verify_helpers() {
    let mut m = XmlMap::new();
    for (k, v) in [
        ("appid", "wxd930ea5d5a258f4f"),
        ("mch_id", "10000100"),
        ("device_info", "1000"),
        ("body", "test"),
        ("nonce_str", "ibuaiVcKdpRxkhJA"),
    ] {
        m.insert(k, v).unwrap();
    }
    assert_eq!(
        m.verify(&key(), SignType::Md5),
        Err(Error::MissingSignature)
    );
    m.sign(&key(), SignType::Md5).unwrap();
    assert_eq!(
        m.to_xml(),
        "<xml><appid>wxd930ea5d5a258f4f</appid><mch_id>10000100</mch_id><device_info>1000</device_info><body>test</body><nonce_str>ibuaiVcKdpRxkhJA</nonce_str><sign>9A0A8659F005D6984697E2CA0A9CF3B7</sign></xml>"
    );
    m.verify(&key(), SignType::Md5).unwrap();
    m.insert("extra", "added after signing").unwrap();
    assert_eq!(
        m.verify(&key(), SignType::Md5),
        Err(Error::Sign(tenpay_sign::Error::Mismatch))
    );
    m.insert("sign", "").unwrap();
    assert_eq!(
        m.verify(&key(), SignType::Md5),
        Err(Error::MissingSignature)
    );
}

#[test]
fn fen_is_strict() {
    assert_eq!("0".parse::<Fen>().unwrap(), Fen::new(0));
    assert_eq!(
        "18446744073709551615".parse::<Fen>().unwrap().get(),
        u64::MAX
    );
    for bad in [
        "",
        "1.0",
        "-1",
        "+1",
        " 1",
        "1 ",
        "01",
        "18446744073709551616",
        "1e3",
        "１",
    ] {
        assert!(bad.parse::<Fen>().is_err(), "{bad:?}");
    }
    assert_eq!(Fen::from_yuan("8.88").unwrap(), Fen::new(888));
    assert_eq!(Fen::from_yuan("0.01").unwrap(), Fen::new(1));
    assert_eq!(Fen::from_yuan("8.8").unwrap(), Fen::new(880));
    assert_eq!(Fen::from_yuan("8").unwrap(), Fen::new(800));
    for bad in [
        "",
        "8.",
        ".8",
        "8.888",
        "-8.88",
        "8,88",
        "１.00",
        "184467440737095516.16",
    ] {
        assert!(Fen::from_yuan(bad).is_err(), "{bad:?}");
    }
    assert_eq!(Fen::new(888).to_yuan(), "8.88");
    assert_eq!(Fen::new(7).to_yuan(), "0.07");
}

#[test]
fn times_round_trip_and_validate() {
    let t: BeijingTime = "20091225091010".parse().unwrap();
    assert_eq!(t.to_string(), "20091225091010");
    assert_eq!(BeijingTime::from_unix(t.unix()), Some(t));
    assert_eq!(
        "20000229000000".parse::<BeijingTime>().unwrap().to_string(),
        "20000229000000"
    );
    for bad in [
        "2009122509101",
        "200912250910100",
        "20091325091010",
        "20090229000000",
        "20091225241010",
        "2009-12-25 09:10:10",
        "2009122509101a",
    ] {
        assert!(bad.parse::<BeijingTime>().is_err(), "{bad:?}");
    }
    let d: BeijingDateTime = "2017-12-13 16:47:45".parse().unwrap();
    assert_eq!(d.to_string(), "2017-12-13 16:47:45");
    assert!("2017-12-13T16:47:45".parse::<BeijingDateTime>().is_err());
    // Beijing is UTC+8: midnight on 1970-01-01 in Beijing is 8 hours before the epoch.
    assert_eq!(
        BeijingTime::from_unix(0).unwrap().to_string(),
        "19700101080000"
    );
}

#[test]
fn enums_keep_unknown_values() {
    assert_eq!(TradeType::from("JSAPI"), TradeType::Jsapi);
    assert_eq!(
        TradeType::from("FACEPAY"),
        TradeType::Unknown("FACEPAY".into())
    );
    assert_eq!(TradeType::from("FACEPAY").as_str(), "FACEPAY");
    assert_eq!(TradeState::from("USERPAYING"), TradeState::UserPaying);
    assert_eq!(RefundStatus::from("REFUNDCLOSE"), RefundStatus::RefundClose);
    assert_eq!(Currency::from("CNY"), Currency::Cny);
    assert_eq!(Currency::from("MOP").to_string(), "MOP");
}

#[derive(Debug, Deserialize, Serialize, PartialEq)]
struct Coupon {
    coupon_id: String,
    coupon_fee: Fen,
    coupon_type: Option<String>,
}

#[derive(Debug, Deserialize)]
struct OrderQuery {
    trade_state: TradeState,
    total_fee: Fen,
    cash_fee: Option<Fen>,
    time_end: BeijingTime,
    fee_type: Option<Currency>,
    #[serde(flatten)]
    extra: BTreeMap<String, String>,
}

#[test]
fn serde_typed_messages_with_catch_all() {
    let map = XmlMap::parse(&fixture("orderquery_response_success.xml")).unwrap();
    let q: OrderQuery = tenpay_xml::from_map(&map).unwrap();
    assert_eq!(q.trade_state, TradeState::Success);
    assert_eq!(q.time_end.to_string(), map.get("time_end").unwrap());
    assert_eq!(q.total_fee.to_string(), map.get("total_fee").unwrap());
    let _ = (q.cash_fee, q.fee_type);
    // Every field not named in the struct is kept.
    assert_eq!(
        q.extra.len()
            + 3
            + usize::from(map.contains("cash_fee"))
            + usize::from(map.contains("fee_type")),
        map.len()
    );
    assert_eq!(q.extra.get("sign").map(String::as_str), map.get("sign"));
}

#[test]
fn serde_errors_name_the_field() {
    #[derive(Debug, Deserialize)]
    struct T {
        #[allow(dead_code)]
        total_fee: u64,
        #[allow(dead_code)]
        out_trade_no: String,
    }
    let m = XmlMap::parse(b"<xml><total_fee>1.0</total_fee><out_trade_no>x</out_trade_no></xml>")
        .unwrap();
    let e = tenpay_xml::from_map::<T>(&m).unwrap_err();
    assert!(
        matches!(&e, Error::InvalidValue { field, .. } if field == "total_fee"),
        "{e}"
    );
    let m = XmlMap::parse(b"<xml><total_fee>1</total_fee></xml>").unwrap();
    assert_eq!(
        tenpay_xml::from_map::<T>(&m).unwrap_err(),
        Error::MissingField("out_trade_no".into())
    );
}

#[test]
fn indexed_fields_read_nested_and_write_back() {
    let map = XmlMap::parse(&fixture("refundquery_response.xml")).unwrap();
    #[derive(Debug, Deserialize)]
    struct Refund {
        out_refund_no: String,
        refund_fee: Fen,
        refund_status: RefundStatus,
    }
    let refunds: Vec<Refund> = indexed::read(&map, "refund_count", "").unwrap();
    assert_eq!(
        refunds.len(),
        map.get("refund_count").unwrap().parse::<usize>().unwrap()
    );
    assert_eq!(
        refunds[0].out_refund_no,
        map.get("out_refund_no_0").unwrap()
    );
    assert_eq!(
        refunds[0].refund_fee.to_string(),
        map.get("refund_fee_0").unwrap()
    );
    let _ = &refunds[0].refund_status;

    // `_$n_$m`: coupons of refund 1.
    let m = XmlMap::parse(b"<xml><refund_count>2</refund_count><out_refund_no_0>a</out_refund_no_0><out_refund_no_1>b</out_refund_no_1>\
        <coupon_refund_count_1>2</coupon_refund_count_1><coupon_refund_id_1_0>c0</coupon_refund_id_1_0><coupon_refund_fee_1_0>5</coupon_refund_fee_1_0>\
        <coupon_refund_id_1_1>c1</coupon_refund_id_1_1><coupon_refund_fee_1_1>6</coupon_refund_fee_1_1><coupon_refund_fee_1>11</coupon_refund_fee_1></xml>").unwrap();
    #[derive(Debug, Deserialize, Serialize, PartialEq)]
    struct RefundCoupon {
        coupon_refund_id: String,
        coupon_refund_fee: Fen,
    }
    let coupons: Vec<RefundCoupon> = indexed::read(&m, "coupon_refund_count_1", "_1").unwrap();
    assert_eq!(coupons.len(), 2);
    assert_eq!(coupons[1].coupon_refund_fee, Fen::new(6));
    let none: Vec<RefundCoupon> = indexed::read(&m, "coupon_refund_count_0", "_0").unwrap();
    assert!(none.is_empty());
    let mut out = XmlMap::new();
    indexed::write(&mut out, &coupons, Some("coupon_refund_count_1"), "_1").unwrap();
    let again: Vec<RefundCoupon> = indexed::read(&out, "coupon_refund_count_1", "_1").unwrap();
    assert_eq!(again, coupons);

    // An index past the count is an error, not silently dropped.
    let bad = XmlMap::parse(b"<xml><coupon_count>1</coupon_count><coupon_id_0>a</coupon_id_0><coupon_fee_0>1</coupon_fee_0><coupon_id_1>b</coupon_id_1><coupon_fee_1>2</coupon_fee_1></xml>").unwrap();
    assert!(matches!(
        indexed::read::<Coupon>(&bad, "coupon_count", ""),
        Err(Error::InvalidValue { .. })
    ));
    let notify = XmlMap::parse(&fixture("pay_notify_with_coupons.xml")).unwrap();
    let coupons: Vec<Coupon> = indexed::read(&notify, "coupon_count", "").unwrap();
    assert_eq!(
        coupons[0],
        Coupon {
            coupon_id: "10000".into(),
            coupon_fee: Fen::new(100),
            coupon_type: Some("CASH".into())
        }
    );
}

#[test]
fn to_map_writes_structs() {
    #[derive(Serialize)]
    struct Req {
        appid: &'static str,
        total_fee: Fen,
        trade_type: TradeType,
        openid: Option<String>,
        time_expire: Option<BeijingTime>,
    }
    let m = tenpay_xml::to_map(&Req {
        appid: "wx1",
        total_fee: Fen::new(1),
        trade_type: TradeType::Native,
        openid: None,
        time_expire: BeijingTime::from_unix(1_409_721_340),
    })
    .unwrap();
    assert_eq!(
        m.to_xml(),
        "<xml><appid>wx1</appid><total_fee>1</total_fee><trade_type>NATIVE</trade_type><time_expire>20140903131540</time_expire></xml>"
    );
    #[derive(Serialize)]
    struct Nested {
        v: Vec<u8>,
    }
    assert!(matches!(
        tenpay_xml::to_map(&Nested { v: vec![1] }),
        Err(Error::InvalidValue { .. })
    ));
}

fn field_name() -> impl Strategy<Value = String> {
    "[a-zA-Z_][a-zA-Z0-9_.-]{0,10}"
}

fn xml_value() -> impl Strategy<Value = String> {
    // Any XML-representable text: printable, CJK, markup characters, ]]>, CR, tabs.
    let pieces = prop_oneof![
        "\\PC{0,8}",
        Just("]]>".to_owned()),
        Just("<![CDATA[".to_owned()),
        Just("\r\n".to_owned()),
        Just("&amp;&#x41;".to_owned()),
        Just(" \t".to_owned()),
        Just("支付😀".to_owned()),
    ];
    proptest::collection::vec(pieces, 0..5).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn read_of_write_is_identity(fields in proptest::collection::btree_map(field_name(), xml_value(), 0..20)) {
        let mut m = XmlMap::new();
        for (k, v) in &fields {
            m.insert(k, v).unwrap();
        }
        let xml = m.to_xml();
        let back = XmlMap::parse(xml.as_bytes()).unwrap();
        prop_assert_eq!(&back, &m);
        // The oracle agrees on our output.
        let theirs = oracle::quick_xml_fields(&xml, "xml").unwrap();
        let ours: Vec<(String, String)> = m.iter().map(|(k, v)| (k.into(), v.into())).collect();
        prop_assert_eq!(ours, theirs);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = XmlMap::parse(&bytes);
    }

    #[test]
    fn mutated_documents_accepted_only_if_quick_xml_agrees(
        fields in proptest::collection::btree_map(field_name(), xml_value(), 1..6),
        pos in any::<prop::sample::Index>(),
        insert in prop_oneof![Just("<"), Just("&"), Just("]]>"), Just("<!--x-->"), Just("<a>"), Just("</xml>"), Just(" ")],
    ) {
        let mut m = XmlMap::new();
        for (k, v) in &fields {
            m.insert(k, v).unwrap();
        }
        let mut xml = m.to_xml();
        let mut at = pos.index(xml.len());
        while !xml.is_char_boundary(at) {
            at -= 1;
        }
        xml.insert_str(at, insert);
        if let Ok(ours) = XmlMap::parse(xml.as_bytes()) {
            let theirs = oracle::quick_xml_fields(&xml, "xml");
            prop_assert!(theirs.is_ok(), "we accepted what quick-xml refuses: {:?}", xml);
            let ours: Vec<(String, String)> = ours.iter().map(|(k, v)| (k.into(), v.into())).collect();
            prop_assert_eq!(ours, theirs.unwrap());
        }
    }
}

/// A document with `items` as records, in `list` or directly under the root.
fn with_records(flat: &XmlMap, list: Option<&str>, item: &str, items: &[XmlMap]) -> String {
    let records: String = items
        .iter()
        .map(|m| {
            let xml = m.to_xml();
            let inner = &xml["<xml>".len()..xml.len() - "</xml>".len()];
            format!("<{item}>{inner}</{item}>\n")
        })
        .collect();
    let records = match list {
        Some(list) => format!("<{list}>\n{records}</{list}>"),
        None => records,
    };
    let xml = flat.to_xml();
    format!("{}{records}</xml>", &xml[..xml.len() - "</xml>".len()])
}

#[test]
fn records_are_read_in_a_list_or_under_the_root_and_nothing_else_nests() {
    let p = Parser::new();
    let body = b"<root><total>2</total><mchinfo><mch_id>1</mch_id></mchinfo>\n\
        <result_code>SUCCESS</result_code><mchinfo><mch_id>2</mch_id><merchant_name/></mchinfo></root>";
    let (flat, items) = p
        .clone()
        .root("root")
        .parse_records(body, None, "mchinfo")
        .unwrap();
    assert_eq!(flat.len(), 2);
    assert_eq!(items.len(), 2);
    assert_eq!(items[1].get("merchant_name"), Some(""));
    // The same field name in two records is no duplicate; twice in one record it is.
    let twice = b"<xml><l><i><a>1</a><a>2</a></i></l></xml>";
    assert!(matches!(
        p.parse_records(twice, Some("l"), "i"),
        Err(Error::DuplicateField(_))
    ));
    let (_, empty) = p
        .parse_records(b"<xml><l/><a>1</a></xml>", Some("l"), "i")
        .unwrap();
    assert!(empty.is_empty());
    for (bad, why) in [
        (
            &b"<xml><l><i><a>1</a></i></l><l/></xml>"[..],
            "a second list",
        ),
        (b"<xml><l>text<i/></l></xml>", "text in the list"),
        (b"<xml><l><j/></l></xml>", "another element in the list"),
        (
            b"<xml><l><i><a><b/></a></i></l></xml>",
            "a record nested deeper",
        ),
        (b"<xml><l><i x=\"1\"/></l></xml>", "an attribute"),
        (b"<xml><i><a>1</a></i></xml>", "a record outside its list"),
        (b"<xml><l><i><a>1</a></l></xml>", "an unclosed record"),
        (b"<xml><l><!-- c --></l></xml>", "a comment"),
    ] {
        assert!(p.parse_records(bad, Some("l"), "i").is_err(), "{why}");
    }
    assert!(matches!(
        p.parse_records(b"<xml/>", Some("bad name"), "i"),
        Err(Error::InvalidName(_))
    ));
    // Records and their fields count against the field limit.
    let many = format!("<xml><l>{}</l></xml>", "<i><a>1</a></i>".repeat(300));
    assert!(matches!(
        p.parse_records(many.as_bytes(), Some("l"), "i"),
        Err(Error::TooManyFields { .. })
    ));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn records_read_back_as_written_and_as_quick_xml_reads_each(
        flat in proptest::collection::btree_map("f[a-z]{0,6}", xml_value(), 0..6),
        items in proptest::collection::vec(proptest::collection::btree_map(field_name(), xml_value(), 0..5), 0..5),
        in_list in any::<bool>(),
    ) {
        let map = |fields: &BTreeMap<String, String>| {
            let mut m = XmlMap::new();
            for (k, v) in fields {
                m.insert(k, v).unwrap();
            }
            m
        };
        let (flat, items): (XmlMap, Vec<XmlMap>) = (map(&flat), items.iter().map(map).collect());
        let list = in_list.then_some("list");
        let doc = with_records(&flat, list, "rec", &items);
        let (got_flat, got_items) = Parser::new().parse_records(doc.as_bytes(), list, "rec").unwrap();
        prop_assert_eq!(&got_flat, &flat);
        prop_assert_eq!(&got_items, &items);
        for m in &items {
            let theirs = oracle::quick_xml_fields(&m.to_xml(), "xml").unwrap();
            let ours: Vec<(String, String)> = m.iter().map(|(k, v)| (k.into(), v.into())).collect();
            prop_assert_eq!(ours, theirs);
        }
    }
}
