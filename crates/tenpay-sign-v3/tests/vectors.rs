//! The protocol reference's v3 vectors (V1–V13, `V3-PROTOCOL.md`), each from an official
//! SDK's tests or recomputed from their keys, and the refusals around them.

use tenpay_sign_v3::{
    ApiV3Key, Authorization, DecryptError, KeyError, PlatformCertificate, PrivateKey, PublicKey,
    Resource, SignError, SignedHeaders, Signer, Verifier, VerifyError, answer_message,
    request_message,
};

const GO_KEY: &str = include_str!("data/wechatpay-go_test_private_key.pem");
const JAVA_MERCHANT_KEY: &str = include_str!("data/wechatpay-java_merchant_private_key.pem");
const JAVA_MERCHANT_CERT: &str = include_str!("data/wechatpay-java_merchant_certificate.pem");
const JAVA_WECHAT_KEY: &str = include_str!("data/wechatpay-java_wechat_pay_private_key.pem");
const JAVA_WECHAT_PUB: &str = include_str!("data/wechatpay-java_wechat_pay_public_key.pem");
const JAVA_WECHAT_CERT: &str = include_str!("data/wechatpay-java_wechat_pay_certificate.pem");
const APIV3: &str = "a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb";
const SERIAL: &str = "5F1C72E2A8931B72A2E13AF8DEE92471EB397115";
const PUB_ID: &str = "PUB_KEY_ID_0112345678202405010012345678";

const V1: &str = "BKyAfU4iMCuvXMXS0Wzam3V/cnxZ+JaqigPM5OhljS2iOT95OO6Fsuml2JkFANJU9K6q9bLlDhPXuoVz+pp4hAm6pHU4ld815U4jsKu1RkyaII+1CYBUYC8TK0XtJ8FwUXXz8vZHh58rrAVN1XwNyvD1vfpxrMT4SL536GLwvpUHlCqIMzoZUguLli/K8V29QiOhuH6IEqLNJn8e9b3nwNcQ7be3CzYGpDAKBfDGPCqCv8Rw5zndhlffk2FEA70G4hvMwe51qMN/RAJbknXG23bSlObuTCN7Ndj1aJGH6/L+hdwfLpUtJm4QYVazzW7DFD27EpSQEqA8bX9+8m1rLg==";
const V2: &str = "Rq+5ZpWV6IHTWE1+9gCrYJKguNgbItpMdlIA+PVCPCdUAKNlohZz7CL7Y8xWDIFJjdGnErMj6Z+Q/h9CF5MV+nAVkqDmBR0uP5ppsUEzco4ijvKHsvI2ro4boSW6vSfQs3W8I4QSI9a0/NFIgvj83Fv27LIYZf7deaFWmEwd1fpAeJRCyoKyBeJPdsjVx0//Lqe6Wze2zVdliLcBvaHCfpd8+rAVGS+FQDeWgHqJ7n/Zy09LmV1/ghs7pO1mdjdD16SHKlysAD3K5hNGUJX/SHrEXEcu1yO1AOb/YvOVkjNh8243rcfXNE5L4ph2XS11vS+2aToKYSOcKUagf0LLaw==";
const V4: &str = "I3rBjiGKeDrfOqpT4aW2VvjhsA2GEpOyCQivyRwmSroe6EftplTwTBtIyg0QKmxX+5xWmgOkHEWjebST5Vt8NL9Dka8cNN3oZsRvG8hvBxuTLMrvigG7tOF2YNUW6AKzKlCCXMAo0MF6BE/d7jNKyM7nAK+ZaiI/22T4v2RmlQFFGo1op6Li+MBeLb7624rDqkw5VKY97jMavtEFgaVWy0DKTmiXinujsU9kpYVJq8noO0NiyhDWG5RFYQmGYRzd3wio9IWRDWYi+qNWuGhg1CoSOgo02UbmT9W8/RXXxP+w0c9RLLhL3aBPT5coCp6cEbyA+KukOGAhKi93HHIYAg==";
const V5: &str = "NoxLMnXforZNM+9RMoXBMoWc5TJU6+0y37/2DhbyCgUYDMgdLftzxljDPhIm1gT1umI/YRuulDtywJZpd+Ii9vSi8BdwTuNDIy06qraa7vdAAu7Hr24G2zrIwYYWt0eNePiN0LLn0zImjCI19AcJF+Ay3HuTrF0w7m1bb6sglCUH2S0M563HkH2JMnd2nvNUcclCFHUps79i7oMCl9eO+K9ijG2ZEUcCtNz/f4Kqy5Ds2dDicaXCVeF9fW6lLYR8vpY+pBXj3mVqZPpEfFbjwBQQcwgVohlCy8fP04P03otoJlFmXf/1yc62mIDwIkqQPBuQLiK0n/Fl/YXZXd6EhA==";
const V5_BODY: &str = r#"{"appid":"wxd678efh567hg6787","mchid":"1230000109","description":"Image形象店-深圳腾大-QQ公仔","out_trade_no":"1217752501201407033233368018","notify_url":"https://www.weixin.qq.com/wxpay/pay.php","amount":{"total":100,"currency":"CNY"},"payer":{"openid":"oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"}}"#;
const V6: &str = "tJHIiIS9eB2hAYstmAmbbD3ZE5LiIm/Ug5tuL4fC0YOFRWIHV39UFIZXC0e9Wl6lBu6sKvkqDkzpqzBsVHyXFlbYZTOQrVdG4b6LfTnK4mikv9++ixJMd3vTf2yCqvBkh98zs3Ds5zsYQakzbcwhmw4fMJs4nPLws28H0UW9FjDR//rxELLwXvV1VEA1IBLX70xptjL8hrfUjEE8kkry6yNJTHZRU8CAc7qHli2Ng1V1qb9ARbK8A3ThmFmPQvRGrapI/jS2laKKgYUmfdEdkNO6B2Cke5e8VTxY406ArAmQ90GAihDwIcb16TQMnzCMBoutnwZKNiKRACrFmtxw2Q==";
const V7: &str = "Bde9UqZ7oxIjzxD9k0RuT/tgtVkXh1WSQdNXGwfMyojjSyPCHGXSNDheoKWSeYsFs2ohLWVQFMPrLLvjuvUfl9y+Tubel5hq9uUoIBNkyWUoOyGVYhpnPdeQtOwmbBF6jCE+hi2gKI5l/st8pCw3TRNJ8cLSVj/If7badqwYFJym27gPOkQ3MIi++6rVvzwU/M2jopr8SlD3brVEXmy+Q/Be8UNJ/9ofJRmm7ERgD3hwV3bmwFrH0H+DhOJpp4GaTyPEDPvc06Drq1cgB7XRD1OTEnM+LEDyef23i0Iv+lKPcYxCmqJCVPuD3MBjnGtv0+ReT/uGa2Kc5xwbEK4LRw==";
const V7_EMPTY: &str = "C+OdLSq4cZauZVcWqhwHPNF6qDCtjlgM4GhJJTcRQPt/16m63gxQWiQqyMOJQnE3twf1thNgvHg7myrqzd+G2ALT8OL/aS2dRgKIfDy3AUaXUnGh8s910cgOG5MN87G86shz1wv0NJVNGp2lpNqlSQM1+4TO4iRJ/eBE9+qpal+LhekKKhwJEgzeKZmRuyFfala5BP8K94W9M9JGP6eqSngqIHXH7VyFLbOGUXpiL2d/2uT9n1RFTCOdvw7vz3XjrpxWMLzrk9+vvYisFFL8b1V3nnWVJRdJXFIjXaD2pZy/NdIS3ozlxpN9ra++xmqTeI2POKv4OQCdHB9X8lNIMw==";
const V7_BODY: &[u8] = br#"{"code_url":"weixin://wxpay/bizpayurl?pr=JyC91EIz1"}"#;
const V11: &str = "aK6pCFuPWrZxXvIc1DzL6wRY8xpcQhCN+cnBJDVEI36woyvtw3il94jsJGYyf+Ox/sRS3xzHzidoE8oIAoRgz4fSGPNetxRWchVnc6R1AgA/SQbhr2NfsgHi1w23WbYy9uGfk2DV9I5XY38HS9kiMWUrjszHVNcySPO9dVcv2pbQsieYDSxcLu1lp0LpyQFWRpdxoviqTfBLC+606FFFNe+sC4P3VRTy+Ua7iPmn2qaj6xFWthuJSuxTQL4ElNRiYzaVVj8zuLFow1e4s/QqwqF2KAl4F7rZDTgKRih/CUfAo9zxEWYSYQRRj1dCEuzPH3QMtfBbU8gCV080+R8QEA==";
const V12: &str = "Qqsluo7R1IZyAqdkm/jBzwXDP5VndCwwFbRA+yILFTYciZzrRChQIQ7SKuI2k3YSR5auB3ZspdjR1WPB3PTCKe6BCFx3NnaPWhSwonYTmW8ZseXjkbcYSbKL5O/6dr6Zftg3t2A2FUd97acjM1fr2EIvIvRieQ3Hl8qVkDBY9520wm1rzvePUnxQWN70RZiBcqr7O7Gb0gU3l7FkvoUFSbY44HgDJetmVow3yGIV3Tcd45o2MNQ+5F1qvjIjb3/6dkGKce4/kNTYraUMO6o6kfFXlfg+bFRIiz8hiUpbToWdu7g0R5Hq0/YIE5vw/5Ms4gbk2HIQIfOLkY8sEPjYHA==";
const V13_JSAPI: &str = "Uvgm57c+/kZHCS8g8wjy/Bu2kE4+UrHnpshEwMRp0Wl3t6bnnTtecnAKboVjgd5B8uzf3qW+mWgJM3lD4AzduLt9W3AIWniYMwUEoReisulc0JilQklPvjWNQC5YKq49auOxooRcFgu3sRMSe1oSq7fBV40AlPdLp399hrriLv6Omy38ifJfsEk1X7IAaOotNTaoT/+ZpraGPTNhkxot2FfU7fM0n3r0JMODKpfeerCKiirMDczqJUBQvZ9hYZYv14O0qcghyvrSVuoXnI/1qaqnXB9lsrudXLKP7uLAPcpkVRA8/2WV3C9KTn00qSP29Tc5e7TNjQWMGSj0/FEAug==";
const V13_APP: &str = "Y+dFbz1ddC0DHS9dt6ZxRd/2W8J1jkWMfcoVLzyLEHTGxrm+ctlEZqoT0fV5pYx7yBqEmHbzgYoipkqnKVNOrJK1qy10OaMG6DvoS2MpdoiRD1O+JBy/g+WbxtAcegjrK9DsXApTTAcR17M0xk26LdamTC5R8PYrt8xPquVa0Uyzw/hxoLKVLfzHpanjH76XFPVR6wjWhNJhVxAMC0PyNN0/NjgPVe3z2xYpqcIxy32h6ZL84QELAqosscICtMIuUBdkyUo2B166n5V09MvCIBWEh/iyXBC8wf7HyTdmebJhVWUp/cA4l/W1IVIXzykWdmbk+dBf1wnDEfPV0Ww7nQ==";

fn java_signer(mchid: &str) -> Signer {
    Signer::new(
        mchid,
        SERIAL,
        PrivateKey::from_pem(JAVA_MERCHANT_KEY).expect("key"),
    )
    .expect("signer")
}

fn public_key_verifier() -> Verifier {
    let mut v = Verifier::new();
    v.add_public_key(PUB_ID, PublicKey::from_pem(JAVA_WECHAT_PUB).expect("pub"))
        .expect("id");
    v
}

#[test]
fn v1_v2_the_primitive_matches_go_and_java() {
    let go = PrivateKey::from_pem(GO_KEY).expect("go key");
    assert_eq!(go.sign(b"source").expect("sign"), V1);
    let java = PrivateKey::from_pem(JAVA_MERCHANT_KEY).expect("java key");
    assert_eq!(java.sign(b"message").expect("sign"), V2);
    java.public_key().verify(b"message", V2).expect("verifies");
    // JAVA RSAVerifierTest: the merchant's signature must fail under WeChat Pay's key.
    let wechat = PublicKey::from_pem(JAVA_WECHAT_PUB).expect("pub");
    assert_eq!(wechat.verify(b"message", V2), Err(VerifyError::Mismatch));
}

#[test]
fn v3_message_layout_and_v4_the_whole_get_header() {
    assert_eq!(
        request_message(
            "GET",
            "/v3/certificates",
            1_624_523_846,
            "A1B2C3D4E5F6G7",
            b""
        ),
        b"GET\n/v3/certificates\n1624523846\nA1B2C3D4E5F6G7\n\n"
    );
    // A body ending in a newline is signed as is, plus the terminator.
    assert!(
        request_message("POST", "/v3/x", 1, "N", b"Hello World!\n")
            .ends_with(b"N\nHello World!\n\n")
    );
    let auth = java_signer("1234567891")
        .authorization(
            "GET",
            "/v3/pay/transactions/id/1217752501201407033233368018?mchid=1230000109",
            1_652_750_623,
            "eBYqCOxa0QudMnPvVilkTzOg3gHh5Z3u",
            b"",
        )
        .expect("sign");
    assert_eq!(
        auth.to_string(),
        format!(
            "WECHATPAY2-SHA256-RSA2048 mchid=\"1234567891\",nonce_str=\"eBYqCOxa0QudMnPvVilkTzOg3gHh5Z3u\",timestamp=\"1652750623\",serial_no=\"{SERIAL}\",signature=\"{V4}\""
        )
    );
}

#[test]
fn v5_a_post_body_is_signed_byte_for_byte() {
    let auth = java_signer("1230000109")
        .authorization(
            "POST",
            "/v3/pay/transactions/jsapi",
            1_652_750_623,
            "eBYqCOxa0QudMnPvVilkTzOg3gHh5Z3u",
            V5_BODY.as_bytes(),
        )
        .expect("sign");
    assert_eq!(auth.signature(), V5);
}

#[test]
fn the_receiving_side_reads_and_checks_an_authorization() {
    let signer = java_signer("1230000109");
    let header = signer
        .authorization(
            "POST",
            "/v3/pay/transactions/jsapi",
            1000,
            "abc",
            V5_BODY.as_bytes(),
        )
        .expect("sign")
        .to_string();
    let auth = Authorization::parse(&header).expect("parses");
    assert_eq!(
        (auth.mchid(), auth.nonce(), auth.timestamp()),
        ("1230000109", "abc", 1000)
    );
    assert_eq!(auth.serial().as_str(), SERIAL);
    let merchant = PlatformCertificate::from_pem(JAVA_MERCHANT_CERT).expect("merchant cert");
    assert_eq!(merchant.serial().as_str(), SERIAL);
    let key = merchant.public_key();
    auth.verify(
        key,
        "POST",
        "/v3/pay/transactions/jsapi",
        V5_BODY.as_bytes(),
        1300,
    )
    .expect("ok at 300 s");
    assert!(matches!(
        auth.verify(
            key,
            "POST",
            "/v3/pay/transactions/jsapi",
            V5_BODY.as_bytes(),
            1301
        ),
        Err(VerifyError::ClockSkew { skew: 301, .. })
    ));
    assert_eq!(
        auth.verify(
            key,
            "POST",
            "/v3/pay/transactions/app",
            V5_BODY.as_bytes(),
            1000
        ),
        Err(VerifyError::Mismatch)
    );
    // Field order is free; duplicates, unknown fields and a wrong scheme are not.
    let reordered = format!(
        "WECHATPAY2-SHA256-RSA2048 serial_no=\"{SERIAL}\",signature=\"{}\",mchid=\"1230000109\",timestamp=\"1000\",nonce_str=\"abc\"",
        auth.signature()
    );
    assert_eq!(Authorization::parse(&reordered).expect("reordered"), auth);
    for bad in [
        header.replace("WECHATPAY2-SHA256-RSA2048", "WECHATPAY2-SHA256-RSA1024"),
        header.replace("nonce_str=\"abc\"", "nonce_str=\"abc\",nonce_str=\"abd\""),
        header.replace("nonce_str=\"abc\"", "nonce=\"abc\""),
        header.replace("mchid=\"1230000109\"", "mchid=1230000109"),
        header.replace("timestamp=\"1000\"", "timestamp=\"-1\""),
        header.replace(&format!(",serial_no=\"{SERIAL}\""), ""),
    ] {
        assert!(
            matches!(
                Authorization::parse(&bad),
                Err(VerifyError::Authorization(_))
            ),
            "{bad}"
        );
    }
}

#[test]
fn inputs_that_cannot_be_sent_are_refused_before_signing() {
    let s = java_signer("1230000109");
    assert!(matches!(
        s.authorization("GET", "/v3/x", 1, "a\"b", b""),
        Err(SignError::Nonce(_))
    ));
    assert!(matches!(
        s.authorization("get", "/v3/x", 1, "ab", b""),
        Err(SignError::Method(_))
    ));
    assert!(matches!(
        s.authorization("GET", "https://api/v3", 1, "ab", b""),
        Err(SignError::Url(_))
    ));
    assert!(matches!(
        s.authorization("GET", "/v3/a b", 1, "ab", b""),
        Err(SignError::Url(_))
    ));
    let key = || PrivateKey::from_pem(JAVA_MERCHANT_KEY).expect("key");
    assert!(matches!(
        Signer::new("12ab", SERIAL, key()),
        Err(KeyError::MerchantId(_))
    ));
    assert!(matches!(
        Signer::new("1230000109", PUB_ID, key()),
        Err(KeyError::KeyId(_))
    ));
    assert!(matches!(
        PrivateKey::from_pem(JAVA_WECHAT_PUB),
        Err(KeyError::Pem { .. })
    ));
    assert!(matches!(
        PublicKey::from_pem(JAVA_MERCHANT_KEY),
        Err(KeyError::Pem { .. })
    ));
    assert_eq!(
        format!("{:?}", key()),
        "PrivateKey(2048 bits, ** redacted **)"
    );
    assert!(!format!("{s:?}").contains("MII"));
}

#[test]
fn v6_go_notification_signature_verifies_over_the_raw_body() {
    let body = include_bytes!("data/wechatpay-go_notify_body.json");
    assert_eq!(body.len(), 568);
    let key = PrivateKey::from_pem(GO_KEY).expect("go key").public_key();
    let message = answer_message("1624523846", "EcZ9Cmy4Xyx1i6RlJQzLcCyEqDa26NBz", body);
    key.verify(&message, V6)
        .expect("GO's notification verifies");
    // Re-serialised JSON is another message.
    let reserialised =
        serde_json::to_vec(&serde_json::from_slice::<serde_json::Value>(body).expect("json"))
            .expect("json");
    assert_ne!(reserialised.as_slice(), body.as_slice());
    let message = answer_message(
        "1624523846",
        "EcZ9Cmy4Xyx1i6RlJQzLcCyEqDa26NBz",
        &reserialised,
    );
    assert_eq!(key.verify(&message, V6), Err(VerifyError::Mismatch));
}

#[test]
fn v7_public_key_mode_answers_and_the_clock_rule() {
    let v = public_key_verifier();
    let h = SignedHeaders::new("1722850421", "d824f2e086d3c1df967785d13fcd22ef", V7, PUB_ID);
    v.verify(&h, V7_BODY, 1_722_850_421).expect("verifies");
    v.verify(&h, V7_BODY, 1_722_850_421 + 300)
        .expect("300 s is still in");
    v.verify(&h, V7_BODY, 1_722_850_421 - 300)
        .expect("300 s ahead is still in");
    assert!(matches!(
        v.verify(&h, V7_BODY, 1_722_850_421 + 301),
        Err(VerifyError::ClockSkew { skew: 301, .. })
    ));
    let empty = SignedHeaders::new(
        "1722850421",
        "d824f2e086d3c1df967785d13fcd22ef",
        V7_EMPTY,
        PUB_ID,
    );
    v.verify(&empty, b"", 1_722_850_421)
        .expect("a 204's empty body verifies");
    assert_eq!(
        v.verify(&empty, b" ", 1_722_850_421),
        Err(VerifyError::Mismatch)
    );
    assert_eq!(
        v.verify(
            &h,
            b"{\"code_url\":\"weixin://wxpay/bizpayurl?pr=JyC91EIz2\"}",
            1_722_850_421
        ),
        Err(VerifyError::Mismatch)
    );
}

#[test]
fn forged_probed_downgraded_and_unknown_messages_are_refused_each_by_its_name() {
    let v = public_key_verifier();
    let ts = "1722850421";
    let nonce = "d824f2e086d3c1df967785d13fcd22ef";
    let now = 1_722_850_421;
    let probe = SignedHeaders::new(ts, nonce, "WECHATPAY/SIGNTEST/Bde9UqZ7oxIjzxD9k0Ru", PUB_ID);
    assert_eq!(v.verify(&probe, V7_BODY, now), Err(VerifyError::Probe));
    let downgraded =
        SignedHeaders::new(ts, nonce, V7, PUB_ID).with_signature_type("WECHATPAY2-SHA1-RSA1024");
    assert!(matches!(
        v.verify(&downgraded, V7_BODY, now),
        Err(VerifyError::SignatureType(_))
    ));
    let named =
        SignedHeaders::new(ts, nonce, V7, PUB_ID).with_signature_type("WECHATPAY2-SHA256-RSA2048");
    v.verify(&named, V7_BODY, now)
        .expect("the right type is fine");
    let unknown = SignedHeaders::new(ts, nonce, V7, "PUB_KEY_ID_0199999999");
    assert!(matches!(
        v.verify(&unknown, V7_BODY, now),
        Err(VerifyError::UnknownKey(_))
    ));
    let garbage = SignedHeaders::new(ts, nonce, "not base64!", PUB_ID);
    assert_eq!(
        v.verify(&garbage, V7_BODY, now),
        Err(VerifyError::MalformedSignature)
    );
    let short = SignedHeaders::new(ts, nonce, "c2hvcnQ=", PUB_ID);
    assert_eq!(
        v.verify(&short, V7_BODY, now),
        Err(VerifyError::MalformedSignature)
    );
    let bad_ts = SignedHeaders::new("17228504x1", nonce, V7, PUB_ID);
    assert!(matches!(
        v.verify(&bad_ts, V7_BODY, now),
        Err(VerifyError::BadTimestamp(_))
    ));
    let missing = SignedHeaders::from_fn(|name| (name != "Wechatpay-Nonce").then_some("x"));
    assert_eq!(
        v.verify(&missing, V7_BODY, now),
        Err(VerifyError::MissingHeader("Wechatpay-Nonce"))
    );
    // Forged: signed by the merchant's key (anyone's key but WeChat Pay's).
    let forger = PrivateKey::from_pem(JAVA_MERCHANT_KEY).expect("key");
    let forged = forger
        .sign(&answer_message(ts, nonce, V7_BODY))
        .expect("sign");
    let forged = SignedHeaders::new(ts, nonce, &forged, PUB_ID);
    assert_eq!(v.verify(&forged, V7_BODY, now), Err(VerifyError::Mismatch));
}

#[test]
fn certificates_and_public_keys_side_by_side_during_a_migration_and_a_rotation() {
    let wechat = PrivateKey::from_pem(JAVA_WECHAT_KEY).expect("key");
    let cert = PlatformCertificate::from_pem(JAVA_WECHAT_CERT).expect("cert");
    assert_eq!(
        cert.serial().as_str(),
        "440024045C4A427599D09BB4E3DE0279F2E813FD"
    );
    let mut v = public_key_verifier();
    assert!(v.add_certificate(cert.clone()));
    assert!(
        !v.add_certificate(cert.clone()),
        "the same serial again is not new"
    );
    let inside = u64::try_from(cert.not_before()).expect("positive") + 86_400;
    let ts = inside.to_string();
    let sig = wechat
        .sign(&answer_message(&ts, "n1", b"{}"))
        .expect("sign");
    // The same key pair under both names: each name selects its own entry.
    for id in [cert.serial().as_str(), PUB_ID] {
        v.verify(&SignedHeaders::new(&ts, "n1", &sig, id), b"{}", inside)
            .expect(id);
    }
    assert_eq!(v.public_key_id().map(|k| k.as_str()), Some(PUB_ID));
    assert_eq!(
        v.encryption_key(inside).map(|(id, _)| id.as_str()),
        Some(PUB_ID)
    );
    // A certificate past its validity no longer verifies, by name.
    let after = u64::try_from(cert.not_after()).expect("positive") + 10;
    let late_ts = after.to_string();
    let late = wechat
        .sign(&answer_message(&late_ts, "n2", b"{}"))
        .expect("sign");
    assert!(matches!(
        v.verify(
            &SignedHeaders::new(&late_ts, "n2", &late, cert.serial().as_str()),
            b"{}",
            after
        ),
        Err(VerifyError::KeyNotValid { .. })
    ));
    // Rotation: the old serial dropped, the new one added; the old one is then unknown.
    assert!(v.remove(PUB_ID));
    assert_eq!(
        v.encryption_key(inside).map(|(id, _)| id.as_str()),
        Some(cert.serial().as_str())
    );
    assert!(v.remove(cert.serial().as_str()));
    assert!(v.is_empty());
    assert!(matches!(
        v.verify(
            &SignedHeaders::new(&ts, "n1", &sig, cert.serial().as_str()),
            b"{}",
            inside
        ),
        Err(VerifyError::UnknownKey(_))
    ));
    // Serials are read case-insensitively (upper case on the wire).
    assert!(v.add_certificate(cert));
    assert!(v.contains("440024045c4a427599d09bb4e3de0279f2e813fd"));
}

#[test]
fn v8_aes_gcm_under_the_apiv3_key() {
    let key = ApiV3Key::new(APIV3).expect("key");
    assert_eq!(
        key.encrypt("uluk4a9R25RW", "associatedData", b"message")
            .expect("seal"),
        "ulwSiIajGClcvcOYvOQ7+l+0PAbzzwI="
    );
    assert_eq!(
        key.decrypt(
            "uluk4a9R25RW",
            "associatedData",
            "ulwSiIajGClcvcOYvOQ7+l+0PAbzzwI="
        )
        .expect("open"),
        b"message"
    );
    assert_eq!(
        key.decrypt(
            "uluk4a9R25RW",
            "bad-associatedData",
            "ulwSiIajGClcvcOYvOQ7+l+0PAbzzwI="
        ),
        Err(DecryptError::Tag)
    );
    assert_eq!(
        key.decrypt(
            "bad-4a9R25RW",
            "associatedData",
            "ulwSiIajGClcvcOYvOQ7+l+0PAbzzwI="
        ),
        Err(DecryptError::Tag)
    );
    let zeros = base64_of(&[0u8; 128]);
    assert_eq!(
        key.decrypt("uluk4a9R25RW", "associatedData", &zeros),
        Err(DecryptError::Tag)
    );
    assert_eq!(
        key.decrypt("short", "", &zeros),
        Err(DecryptError::Nonce(5))
    );
    assert_eq!(
        key.decrypt("uluk4a9R25RW", "", "%%%"),
        Err(DecryptError::Base64)
    );
    // The GO vectors use a 16-byte key (Go's AES accepts it); a real APIv3 key is 32 bytes.
    assert_eq!(
        ApiV3Key::new("testAPIv3Key0000").err(),
        Some(KeyError::ApiV3KeyLength(16))
    );
    let other = ApiV3Key::new("b7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb").expect("key");
    assert_eq!(
        other.decrypt(
            "uluk4a9R25RW",
            "associatedData",
            "ulwSiIajGClcvcOYvOQ7+l+0PAbzzwI="
        ),
        Err(DecryptError::Tag)
    );
}

fn base64_of(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    // Tiny standard base64 for the test's input (no padding concerns: 128 bytes).
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                let _ = write!(out, "{}", A[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[test]
fn v9_downloaded_certificate_decrypts_to_its_serial() {
    let body: serde_json::Value = serde_json::from_str(include_str!(
        "data/wechatpay-java_certificates_response.json"
    ))
    .expect("json");
    let entry = &body["data"][0];
    let resource: Resource =
        serde_json::from_value(entry["encrypt_certificate"].clone()).expect("resource");
    let pem = ApiV3Key::new(APIV3)
        .expect("key")
        .open(&resource)
        .expect("decrypts");
    assert_eq!(
        pem.trim(),
        include_str!("data/wechatpay-java_downloaded_platform_cert.pem").trim()
    );
    let cert = PlatformCertificate::from_pem(&pem).expect("cert");
    assert_eq!(
        cert.serial().as_str(),
        entry["serial_no"].as_str().expect("serial")
    );
    // notBefore 2023-09-19 15:15:58Z, notAfter 2028-09-17 15:15:58Z.
    assert_eq!(
        (cert.not_before(), cert.not_after()),
        (1_695_136_558, 1_852_816_558)
    );
    assert!(cert.is_valid_at(1_800_000_000) && !cert.is_valid_at(1_900_000_000));
    let mut wrong_algorithm = resource;
    wrong_algorithm.algorithm = "AEAD_SM4_GCM".into();
    assert!(matches!(
        ApiV3Key::new(APIV3).expect("key").open(&wrong_algorithm),
        Err(DecryptError::Algorithm(_))
    ));
}

#[test]
fn v11_a_whole_payment_notification_verifies_then_decrypts() {
    let body = include_bytes!("data/computed_notify_transaction_32bytekey.json");
    let h = SignedHeaders::new(
        "1722850421",
        "d824f2e086d3c1df967785d13fcd22ef",
        V11,
        PUB_ID,
    );
    public_key_verifier()
        .verify(&h, body, 1_722_850_500)
        .expect("verifies");
    let note: serde_json::Value = serde_json::from_slice(body).expect("json");
    let resource: Resource = serde_json::from_value(note["resource"].clone()).expect("resource");
    assert_eq!(resource.associated_data.as_deref(), Some("transaction"));
    let plain = ApiV3Key::new(APIV3)
        .expect("key")
        .open(&resource)
        .expect("decrypts");
    let tx: serde_json::Value = serde_json::from_str(&plain).expect("json");
    assert_eq!(tx["trade_state"], "SUCCESS");
    assert_eq!(tx["amount"]["total"], 100);
    assert_eq!(tx["out_trade_no"], "1217752501201407033233368018");
}

#[test]
fn v12_sensitive_fields_decrypt_and_round_trip() {
    let merchant = PrivateKey::from_pem(JAVA_MERCHANT_KEY).expect("key");
    assert_eq!(merchant.decrypt(V12).expect("decrypts"), "plaintext");
    assert_eq!(merchant.decrypt("MTIzNA=="), Err(DecryptError::Oaep));
    assert_eq!(merchant.decrypt("***"), Err(DecryptError::Base64));
    let wechat_pub = PublicKey::from_pem(JAVA_WECHAT_PUB).expect("pub");
    let wechat = PrivateKey::from_pem(JAVA_WECHAT_KEY).expect("key");
    let a = wechat_pub.encrypt("张三").expect("encrypts");
    let b = wechat_pub.encrypt("张三").expect("encrypts");
    assert_ne!(a, b, "OAEP is randomised");
    assert_eq!(wechat.decrypt(&a).expect("decrypts"), "张三");
    assert_eq!(
        merchant.decrypt(&a),
        Err(DecryptError::Oaep),
        "only the key it was encrypted to opens it"
    );
    assert_eq!(
        wechat_pub.encrypt(&"x".repeat(215)),
        Err(SignError::TooLong(215))
    );
    wechat_pub
        .encrypt(&"x".repeat(214))
        .expect("214 bytes fit RSA 2048");
}

#[test]
fn v13_client_pay_parameters() {
    let s = java_signer("1230000109");
    let jsapi = s
        .jsapi_pay(
            "wx8888888888888888",
            "wx201410272009395522657a690389285100",
            1_414_561_699,
            "5K8264ILTKCH16CQ2502SI8ZNMTM67VS",
        )
        .expect("sign");
    assert_eq!(jsapi.pay_sign, V13_JSAPI);
    let json = serde_json::to_value(&jsapi).expect("json");
    assert_eq!(
        json["package"],
        "prepay_id=wx201410272009395522657a690389285100"
    );
    assert_eq!(
        (json["signType"].as_str(), json["timeStamp"].as_str()),
        (Some("RSA"), Some("1414561699"))
    );
    assert_eq!(json["appId"], "wx8888888888888888");
    let app = s
        .app_pay(
            "wx8888888888888888",
            "wx201410272009395522657a690389285100",
            1_414_561_699,
            "5K8264ILTKCH16CQ2502SI8ZNMTM67VS",
        )
        .expect("sign");
    assert_eq!(app.sign, V13_APP);
    assert_eq!(
        (app.package, app.partnerid.as_str()),
        ("Sign=WXPay", "1230000109")
    );
}
