//! Customs declaration (报关) of a paid order, for cross-border e-commerce: declare, query,
//! redeclare. MD5 only and no `nonce_str` on all three. Register the customs information on
//! the merchant platform first. The amount is the payment's; WeChat Pay pushes the payer's
//! identity it holds.

use serde::{Deserialize, Serialize};
use tenpay_sign::SignType;
use tenpay_xml::{Currency, Fen, OutTradeNo, XmlMap};

use crate::endpoint::{Finish, endpoint, keep_raw};
use crate::{Error, Route};

tenpay_xml::wire_enum!(
    /// The customs office (`customs`).
    Customs {
        /// 广州（总署版）.
        GuangzhouZs = "GUANGZHOU_ZS",
        /// 杭州（总署版）.
        HangzhouZs = "HANGZHOU_ZS",
        /// 宁波.
        Ningbo = "NINGBO",
        /// 郑州（保税物流中心）.
        ZhengzhouBs = "ZHENGZHOU_BS",
        /// 重庆.
        Chongqing = "CHONGQING",
        /// 上海（总署版）.
        ShanghaiZs = "SHANGHAI_ZS",
        /// 深圳.
        Shenzhen = "SHENZHEN",
        /// 郑州综保（总署版）.
        ZhengzhouZhZs = "ZHENGZHOU_ZH_ZS",
        /// 天津.
        Tianjin = "TIANJIN",
        /// 总署.
        Zongshu = "ZONGSHU",
    }
);

tenpay_xml::wire_enum!(
    /// A declaration's state. `SUCCESS` and `FAIL` are final; `EXCEPT` (the customs side
    /// failed) is redeclared.
    CustomsState {
        /// Not declared yet.
        Undeclared = "UNDECLARED",
        /// Submitted.
        Submitted = "SUBMITTED",
        /// Being processed.
        Processing = "PROCESSING",
        /// Declared.
        Success = "SUCCESS",
        /// Refused.
        Fail = "FAIL",
        /// An exception at the customs side: redeclare.
        Except = "EXCEPT",
    }
);

/// `/cgi-bin/mch/customs/customdeclareorder`: declare a paid order (`ADD`), or change a
/// declaration (`MODIFY`).
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct CustomsDeclare {
    out_trade_no: OutTradeNo,
    transaction_id: String,
    customs: Customs,
    mch_customs_no: String,
    action_type: &'static str,
    duty: Option<Fen>,
    sub_order_no: Option<String>,
    fee_type: Option<Currency>,
    order_fee: Option<Fen>,
    transport_fee: Option<Fen>,
    product_fee: Option<Fen>,
    cert_type: Option<&'static str>,
    cert_id: Option<String>,
    name: Option<String>,
}

impl CustomsDeclare {
    /// Declare the payment `transaction_id` (order `out_trade_no`) to `customs` under the
    /// merchant's customs registration number `mch_customs_no`.
    pub fn new(
        out_trade_no: OutTradeNo,
        transaction_id: impl Into<String>,
        customs: Customs,
        mch_customs_no: impl Into<String>,
    ) -> Self {
        Self {
            out_trade_no,
            transaction_id: transaction_id.into(),
            customs,
            mch_customs_no: mch_customs_no.into(),
            action_type: "ADD",
            duty: None,
            sub_order_no: None,
            fee_type: None,
            order_fee: None,
            transport_fee: None,
            product_fee: None,
            cert_type: None,
            cert_id: None,
            name: None,
        }
    }

    /// Change an earlier declaration (`action_type=MODIFY`); new identity data is verified
    /// again.
    #[must_use]
    pub fn modify(mut self) -> Self {
        self.action_type = "MODIFY";
        self
    }

    /// The duty, in fen.
    #[must_use]
    pub fn duty(mut self, duty: Fen) -> Self {
        self.duty = Some(duty);
        self
    }

    /// A split order's part `sub_order_no`: its amount is `transport_fee` + `product_fee`.
    #[must_use]
    pub fn sub_order(
        mut self,
        sub_order_no: impl Into<String>,
        transport_fee: Fen,
        product_fee: Fen,
    ) -> Self {
        self.sub_order_no = Some(sub_order_no.into());
        self.fee_type = Some(Currency::Cny);
        self.order_fee = transport_fee.checked_add(product_fee);
        self.transport_fee = Some(transport_fee);
        self.product_fee = Some(product_fee);
        self
    }

    /// The payer's identity card (checked against WeChat Pay's real-name data).
    #[must_use]
    pub fn payer_id_card(mut self, cert_id: impl Into<String>, name: impl Into<String>) -> Self {
        self.cert_type = Some("IDCARD");
        self.cert_id = Some(cert_id.into());
        self.name = Some(name.into());
        self
    }
}

/// The answer to [`CustomsDeclare`] and [`CustomsRedeclare`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct CustomsDeclared {
    /// The declaration's state.
    pub state: CustomsState,
    /// WeChat Pay's transaction id.
    pub transaction_id: Option<String>,
    /// The merchant's order number.
    pub out_trade_no: Option<String>,
    /// The split order's part, when there is one.
    pub sub_order_no: Option<String>,
    /// WeChat Pay's id of that part.
    pub sub_order_id: Option<String>,
    /// Last change (`yyyyMMddHHmmss`).
    pub modify_time: Option<String>,
    /// The identity check: `UNCHECKED`, `SAME`, `DIFFERENT`.
    pub cert_check_result: Option<String>,
    /// What the customs office said (redeclare).
    pub explanation: Option<String>,
    /// Every field of the verified answer.
    #[serde(skip)]
    pub raw: XmlMap,
}

keep_raw!(CustomsDeclared);

const CUSTOMS: Route<'static> = Route::new("/cgi-bin/mch/customs/customdeclareorder")
    .signed_with(SignType::Md5)
    .without_nonce();

endpoint!(CustomsDeclare => CustomsDeclared, CUSTOMS,
    trade_no: |s| Some(s.out_trade_no.as_str()));

/// `/cgi-bin/mch/customs/customdeclarequery`: the declarations of an order at `customs`.
/// Safe to repeat.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct CustomsQuery {
    out_trade_no: OutTradeNo,
    customs: Customs,
}

impl CustomsQuery {
    /// The declarations of `out_trade_no` at `customs`.
    #[must_use]
    pub fn new(out_trade_no: OutTradeNo, customs: Customs) -> Self {
        Self {
            out_trade_no,
            customs,
        }
    }
}

/// One declaration in a [`CustomsQuery`] answer (`…_$n`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct CustomsRecord {
    /// The split order's part.
    pub sub_order_no: Option<String>,
    /// WeChat Pay's id of it.
    pub sub_order_id: Option<String>,
    /// The merchant's customs number.
    pub mch_customs_no: Option<String>,
    /// The customs office.
    pub customs: Option<Customs>,
    /// The amount declared.
    pub order_fee: Option<Fen>,
    /// The duty.
    pub duty: Option<Fen>,
    /// The state.
    pub state: CustomsState,
    /// What the customs office said.
    pub explanation: Option<String>,
    /// Last change (`yyyyMMddHHmmss`).
    pub modify_time: Option<String>,
    /// The identity check.
    pub cert_check_result: Option<String>,
}

/// The answer to [`CustomsQuery`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct CustomsDeclarations {
    /// WeChat Pay's transaction id.
    pub transaction_id: Option<String>,
    /// The declarations (`count`, then `…_$n`).
    #[serde(skip)]
    pub records: Vec<CustomsRecord>,
    /// Every field of the verified answer.
    #[serde(skip)]
    pub raw: XmlMap,
}

impl Finish for CustomsDeclarations {
    fn finish(&mut self, raw: XmlMap) -> Result<(), Error> {
        self.records = tenpay_xml::indexed::read(&raw, "count", "").map_err(Error::Decode)?;
        self.raw = raw;
        Ok(())
    }
}

endpoint!(CustomsQuery => CustomsDeclarations,
    Route::new("/cgi-bin/mch/customs/customdeclarequery")
        .signed_with(SignType::Md5)
        .without_nonce()
        .retry_safe(),
    trade_no: |s| Some(s.out_trade_no.as_str()));

/// `/cgi-bin/mch/newcustoms/customdeclareredeclare`: push a declaration again, when its
/// state is `SUCCESS` or `EXCEPT`. Safe to repeat.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct CustomsRedeclare {
    out_trade_no: OutTradeNo,
    customs: Customs,
    mch_customs_no: String,
    sub_order_no: Option<String>,
}

impl CustomsRedeclare {
    /// Redeclare `out_trade_no` to `customs`.
    pub fn new(
        out_trade_no: OutTradeNo,
        customs: Customs,
        mch_customs_no: impl Into<String>,
    ) -> Self {
        Self {
            out_trade_no,
            customs,
            mch_customs_no: mch_customs_no.into(),
            sub_order_no: None,
        }
    }

    /// Only this part of a split order.
    #[must_use]
    pub fn sub_order(mut self, sub_order_no: impl Into<String>) -> Self {
        self.sub_order_no = Some(sub_order_no.into());
        self
    }
}

endpoint!(CustomsRedeclare => CustomsDeclared,
    Route::new("/cgi-bin/mch/newcustoms/customdeclareredeclare")
        .signed_with(SignType::Md5)
        .without_nonce()
        .retry_safe(),
    trade_no: |s| Some(s.out_trade_no.as_str()));

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::{Merchant, MerchantExt as _};
    use tenpay_sign::{ApiKey, Canonical};

    /// V2-FAMILIES §9.7's declare vector through the client: the sample's sixteen fields,
    /// no nonce. The sample's `order_fee` (888) breaks the documented rule
    /// `order_fee = transport_fee + product_fee`, which this type keeps (1776); with the
    /// sample's value put back, the signature is the vector.
    #[test]
    fn declare_carries_the_sample_and_signs_the_documented_vector() {
        let key = ApiKey::new("192006250b4c09247ec02edce69f6a2d").unwrap();
        // The merchant signs HMAC elsewhere; customs is MD5 whatever it signs with.
        let m = Merchant::new(
            "wxd678efh567hg6787",
            "1230000109",
            key.clone(),
            SignType::HmacSha256,
        );
        let declare = CustomsDeclare::new(
            OutTradeNo::new("20150806125346").unwrap(),
            "1000320306201511078440737890",
            Customs::from("SHANGHAI"),
            "123456",
        )
        .duty(Fen::new(888))
        .sub_order("20150806125346", Fen::new(888), Fen::new(888))
        .payer_id_card("330821198809085211", "张三");
        let map = XmlMap::parse(m.sign(&declare).unwrap().as_bytes()).unwrap();
        assert!(!map.contains("nonce_str"));
        assert_eq!(map.len(), 17, "the sample's sixteen fields and the sign");
        assert_eq!(map.get("order_fee"), Some("1776"));
        map.verify(&key, SignType::Md5).unwrap();
        let sample = Canonical::new(
            map.iter()
                .filter(|(k, _)| *k != "sign")
                .map(|(k, v)| (k, if k == "order_fee" { "888" } else { v })),
        )
        .unwrap();
        assert_eq!(
            sample.sign(&key, SignType::Md5).as_str(),
            "5040F9B9818C98E2BB28DF0FBBC33955"
        );
    }
}
