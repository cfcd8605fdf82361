//! A service provider configures a sub-merchant's JSAPI directories and appids, and a bank
//! service provider adds, finds and changes its sub-merchants, against the simulator
//! (certificate, MD5, no nonce).

use super::*;
use tenpay_client::{
    Answer, Endpoint, Error, SubDevConfig, SubDevConfigQuery, SubMerchantAdd, SubMerchantModify,
    SubMerchantQuery, Verifier,
};
use tenpay_xml::XmlMap;

#[tokio::test]
async fn a_sub_merchant_is_configured_and_read_back() {
    let sim = Simulator::builder()
        .merchant(MerchantAccount::new(APPID, MCH, key()).sub_merchant("1900000109", None))
        .tls(true)
        .start()
        .await
        .unwrap();
    // An HMAC provider: these routes sign MD5 whatever it uses.
    let c = client(&sim, SignType::HmacSha256);
    let body = c
        .request_body(&SubDevConfig::jsapi_path(
            "1900000109",
            "https://shop.example/pay/",
        ))
        .unwrap();
    assert!(
        !body.contains("nonce_str") && !body.contains("sign_type"),
        "{body}"
    );
    for path in [
        "https://shop.example/pay/",
        "https://shop.example/pay/",
        "https://m.example/",
    ] {
        c.add_sub_dev_config(&SubDevConfig::jsapi_path("1900000109", path))
            .await
            .unwrap();
    }
    c.add_sub_dev_config(&SubDevConfig::sub_appid("1900000109", "wxa9d9651ae82ec4b9"))
        .await
        .unwrap();
    let bad = c
        .add_sub_dev_config(&SubDevConfig::jsapi_path("1900000109", "https://no-slash"))
        .await
        .unwrap_err();
    assert_eq!(bad.err_code().map(ErrCode::as_str), Some("PARAM_ERROR"));
    let config = c
        .sub_dev_config(&SubDevConfigQuery::new("1900000109"))
        .await
        .unwrap();
    assert_eq!(
        config.jsapi_paths,
        ["https://shop.example/pay/", "https://m.example/"],
        "a repeat is kept once"
    );
    assert_eq!(
        config.appids[0].sub_appid.as_deref(),
        Some("wxa9d9651ae82ec4b9")
    );
    // A sub-merchant the provider does not have.
    assert!(
        c.sub_dev_config(&SubDevConfigQuery::new("1900000999"))
            .await
            .is_err()
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn a_bank_provider_adds_finds_and_changes_a_sub_merchant() {
    let sim = Simulator::builder()
        .merchant(MerchantAccount::new(APPID, MCH, key()))
        .tls(true)
        .start()
        .await
        .unwrap();
    let c = client(&sim, SignType::HmacSha256);
    let add = SubMerchantAdd::new(
        "某某银行测试商户",
        "测试商户",
        "075586010000",
        "292",
        "bank-0001",
    )
    .contact("张三", "13800000000", None);
    let body = c.request_body(&add).unwrap();
    assert!(
        !body.contains("nonce_str") && !body.contains("sign_type"),
        "{body}"
    );
    let added = c.add_sub_merchant(&add).await.unwrap();
    assert!(!added.sub_mch_id.is_empty());
    // The same reference and profile again: the same merchant, not a second one.
    let again = c.add_sub_merchant(&add).await.unwrap();
    assert_eq!(again.sub_mch_id, added.sub_mch_id);
    let other = SubMerchantAdd::new("另一个商户", "另一个", "075500000000", "292", "bank-0001");
    let refused = c.add_sub_merchant(&other).await.unwrap_err();
    assert_eq!(refused.err_code().map(ErrCode::as_str), Some("PARAM_ERROR"));
    let second = SubMerchantAdd::new(
        "某某银行测试商户",
        "二店",
        "075500000001",
        "292",
        "bank-0002",
    );
    let second = c.add_sub_merchant(&second).await.unwrap();

    // By name: both, a page at a time; by id: one.
    let by_name = c
        .sub_merchants(&SubMerchantQuery::by_name("某某银行测试商户").page(1, 1))
        .await
        .unwrap();
    assert_eq!(by_name.total, Some(2));
    assert_eq!(by_name.merchants.len(), 1);
    let page2 = c
        .sub_merchants(&SubMerchantQuery::by_name("某某银行测试商户").page(2, 1))
        .await
        .unwrap();
    assert_ne!(page2.merchants[0].mch_id, by_name.merchants[0].mch_id);
    c.modify_sub_merchant(
        &SubMerchantModify::new(&added.sub_mch_id)
            .shortname("新简称")
            .service_phone("075599999999"),
    )
    .await
    .unwrap();
    let one = c
        .sub_merchants(&SubMerchantQuery::by_id(&added.sub_mch_id))
        .await
        .unwrap();
    assert_eq!(one.total, Some(1));
    let m = &one.merchants[0];
    assert_eq!(m.mch_id.as_deref(), Some(added.sub_mch_id.as_str()));
    assert_eq!(m.merchant_shortname.as_deref(), Some("新简称"));
    assert_eq!(m.service_phone.as_deref(), Some("075599999999"));
    assert_eq!(m.contact.as_deref(), Some("张三"));
    // The added merchant can be configured like one the account was built with.
    c.add_sub_dev_config(&SubDevConfig::jsapi_path(
        &second.sub_mch_id,
        "https://b.example/",
    ))
    .await
    .unwrap();
    // A merchant this provider does not have.
    let unknown = c
        .modify_sub_merchant(&SubMerchantModify::new("1999999999").shortname("x"))
        .await
        .unwrap_err();
    assert!(
        unknown.err_code().is_some() || matches!(unknown, Error::Protocol { .. }),
        "{unknown}"
    );
    let none = c
        .sub_merchants(&SubMerchantQuery::by_id("1999999999"))
        .await
        .unwrap();
    assert_eq!((none.total, none.merchants.len()), (Some(0), 0));
    sim.shutdown().await;
}

/// The answer forms the sources allow, read without a simulator: records under `xml` or
/// `root`, one merchant flat, unsigned; a forged signature is refused.
#[test]
fn sub_merchant_answers_are_read_in_every_documented_form() {
    let key = key();
    let v = Verifier::new(APPID, MCH, SignType::Md5);
    let sign = |xml: String| {
        let mut m = XmlMap::parse(xml.as_bytes()).unwrap();
        m.sign(&key, SignType::Md5).unwrap();
        m.to_xml()
    };
    let flat = sign(format!(
        "<xml><return_code>SUCCESS</return_code><result_code>SUCCESS</result_code>\
         <appid>{APPID}</appid><mch_id>{MCH}</mch_id><total>1</total></xml>"
    ));
    let records = "<mchinfo><mch_id>11</mch_id><merchant_name>A</merchant_name></mchinfo>\
                   <mchinfo><mch_id>12</mch_id><merchant_name>B</merchant_name></mchinfo>";
    let in_xml = format!("{}{records}</xml>", flat.strip_suffix("</xml>").unwrap());
    let read = SubMerchantQuery::decode(&v, &key, Answer::new(in_xml.clone())).unwrap();
    assert_eq!(read.merchants.len(), 2);
    assert_eq!(read.merchants[1].merchant_name.as_deref(), Some("B"));
    let in_root = in_xml
        .replacen("<xml>", "<root>", 1)
        .replace("</xml>", "</root>");
    assert_eq!(
        SubMerchantQuery::decode(&v, &key, Answer::new(in_root))
            .unwrap()
            .merchants,
        read.merchants
    );
    let unsigned = format!(
        "<xml><return_code>SUCCESS</return_code><result_code>SUCCESS</result_code>\
         <appid>{APPID}</appid><mch_id>{MCH}</mch_id><total>1</total>\
         <sub_mch_id>13</sub_mch_id><merchant_name>C</merchant_name></xml>"
    );
    let one = SubMerchantQuery::decode(&v, &key, Answer::new(unsigned)).unwrap();
    assert_eq!(one.merchants[0].mch_id.as_deref(), Some("13"));
    let forged = in_xml.replacen("<total>1</total>", "<total>9</total>", 1);
    assert!(matches!(
        SubMerchantQuery::decode(&v, &key, Answer::new(forged)),
        Err(Error::BadSignature(_))
    ));
    assert!(SubMerchantQuery::decode(&v, &key, Answer::new("<other/>")).is_err());
}
