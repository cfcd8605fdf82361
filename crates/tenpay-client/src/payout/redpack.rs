//! Cash red packets (现金红包): `sendredpack`, `sendminiprogramhb`, and `gethbinfo`, whose
//! answer nests a list (`hblist`), the one V2 answer that is not flat. Closed to new merchants
//! since 2026-06-18 (existing merchants keep them).

use serde::{Deserialize, Serialize};
use tenpay_sign::ApiKey;
use tenpay_xml::{Fen, MchBillno, XmlMap};

use super::classify::{self, Family};
use super::settle::{Confirm, QueryVerdict, payout_route};
use crate::answer::parse_records;
use crate::endpoint::{Endpoint, MerchantFields, Route, endpoint, keep_raw};
use crate::outcome::{CodeReading, MovesMoney};
use crate::{Answer, Error, Verifier};
use tenpay_xml::ErrCode;

tenpay_xml::wire_enum!(
    /// A red packet's `status` (`gethbinfo`).
    RedpackStatus {
        /// Being sent.
        Sending = "SENDING",
        /// Sent, not yet claimed.
        Sent = "SENT",
        /// Sending failed: nothing was paid.
        Failed = "FAILED",
        /// Claimed.
        Received = "RECEIVED",
        /// Unclaimed after 24 hours, being refunded (WeChat Pay's spelling).
        Refunding = "RFUND_ING",
        /// Unclaimed and refunded to the merchant.
        Refunded = "REFUND",
    }
);

/// A red packet: who sends what to whom. Send it with [`SendRedpack`] (an official
/// account's user) or [`MiniProgramRedpack`] (a mini-program's).
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Redpack {
    mch_billno: MchBillno,
    send_name: String,
    re_openid: String,
    total_amount: Fen,
    total_num: u32,
    wishing: String,
    client_ip: Option<String>,
    act_name: String,
    remark: String,
    scene_id: Option<String>,
    risk_info: Option<String>,
    notify_way: Option<String>,
}

impl Redpack {
    /// `total_amount` for `re_openid` (an openid under the client's appid, sent as
    /// `wxappid`), from `send_name`, with its wishing, activity name and remark.
    #[must_use]
    pub fn new(
        mch_billno: MchBillno,
        re_openid: impl Into<String>,
        total_amount: Fen,
        send_name: impl Into<String>,
        wishing: impl Into<String>,
        act_name: impl Into<String>,
        remark: impl Into<String>,
    ) -> Self {
        Self {
            mch_billno,
            send_name: send_name.into(),
            re_openid: re_openid.into(),
            total_amount,
            total_num: 1,
            wishing: wishing.into(),
            client_ip: None,
            act_name: act_name.into(),
            remark: remark.into(),
            scene_id: None,
            risk_info: None,
            notify_way: None,
        }
    }

    /// `scene_id` (`PRODUCT_1` … `PRODUCT_8`): required below 1 yuan and above 200 yuan.
    #[must_use]
    pub fn scene_id(mut self, scene: impl Into<String>) -> Self {
        self.scene_id = Some(scene.into());
        self
    }

    /// `risk_info`, URL-encoded `posttime=…&mobile=…&deviceid=…&clientversion=…`.
    #[must_use]
    pub fn risk_info(mut self, encoded: impl Into<String>) -> Self {
        self.risk_info = Some(encoded.into());
        self
    }

    /// The number.
    #[must_use]
    pub fn mch_billno(&self) -> &MchBillno {
        &self.mch_billno
    }
}

/// `/mmpaymkttransfers/sendredpack`: a normal packet to an official account's user
/// (certificate, MD5; the merchant named `wxappid` / `mch_id`).
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct SendRedpack(Redpack);

impl SendRedpack {
    /// Sends `packet`; `client_ip` is the calling machine's IPv4 address.
    #[must_use]
    pub fn new(mut packet: Redpack, client_ip: impl Into<String>) -> Self {
        packet.client_ip = Some(client_ip.into());
        packet.notify_way = None;
        Self(packet)
    }
}

/// `/mmpaymkttransfers/sendminiprogramhb`: a packet the mini-program opens with
/// `wx.sendBizRedPacket` and the answer's `package`.
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct MiniProgramRedpack(Redpack);

impl MiniProgramRedpack {
    /// Sends `packet` to a mini-program user (`wxappid` is then the mini-program's appid).
    #[must_use]
    pub fn new(mut packet: Redpack) -> Self {
        packet.client_ip = None;
        packet.notify_way = Some("MINI_PROGRAM_JSAPI".into());
        Self(packet)
    }
}

/// A packet WeChat Pay says it sent (an unsigned answer: a claim).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct RedpackSent {
    /// The number.
    pub mch_billno: String,
    /// The receiver.
    pub re_openid: Option<String>,
    /// The amount.
    pub total_amount: Option<Fen>,
    /// WeChat Pay's number for it.
    pub send_listid: Option<String>,
    /// Mini-program packets: what `wx.sendBizRedPacket` needs (URL-encode it).
    pub package: Option<String>,
    /// Every field.
    #[serde(skip)]
    pub raw: XmlMap,
}

/// `/mmpaymkttransfers/gethbinfo`: a packet's record by its number, for the last 30 days
/// (`NOT_FOUND` may mean "still being sent"). Packets of the retired `sendgroupredpack` are
/// read here too.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct RedpackQuery {
    mch_billno: MchBillno,
    bill_type: &'static str,
}

impl RedpackQuery {
    /// The packet `mch_billno`.
    #[must_use]
    pub fn new(mch_billno: MchBillno) -> Self {
        Self {
            mch_billno,
            bill_type: "MCHT",
        }
    }
}

/// One receiver of a packet (`hblist/hbinfo`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct RedpackReceiver {
    /// Who.
    pub openid: String,
    /// How much they received.
    pub amount: Fen,
    /// When (`yyyy-MM-dd HH:mm:ss`).
    pub rcv_time: Option<String>,
    /// Their part's status, when given.
    pub status: Option<String>,
}

/// A packet's record.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct RedpackInfo {
    /// The number.
    pub mch_billno: String,
    /// WeChat Pay's number for it.
    pub detail_id: Option<String>,
    /// The state.
    pub status: RedpackStatus,
    /// `API`, `UPLOAD` or `ACTIVITY`.
    pub send_type: Option<String>,
    /// `NORMAL` or `GROUP`.
    pub hb_type: Option<String>,
    /// How many receivers.
    pub total_num: Option<u32>,
    /// The amount.
    pub total_amount: Option<Fen>,
    /// Why it failed.
    pub reason: Option<String>,
    /// When it was sent.
    pub send_time: Option<String>,
    /// When it was refunded.
    pub refund_time: Option<String>,
    /// How much was refunded.
    pub refund_amount: Option<Fen>,
    /// The receivers (one per share of a group packet).
    #[serde(skip)]
    pub receivers: Vec<RedpackReceiver>,
    /// Every flat field.
    #[serde(skip)]
    pub raw: XmlMap,
}

endpoint!(SendRedpack => RedpackSent, payout_route("/mmpaymkttransfers/sendredpack", MerchantFields::named(Some("wxappid"), "mch_id")).moving_money());
endpoint!(MiniProgramRedpack => RedpackSent, payout_route("/mmpaymkttransfers/sendminiprogramhb", MerchantFields::named(Some("wxappid"), "mch_id")).moving_money());
keep_raw!(RedpackSent);

impl Endpoint for RedpackQuery {
    type Response = RedpackInfo;
    const ROUTE: Route<'static> = Route::new("/mmpaymkttransfers/gethbinfo")
        .certificate()
        .retry_safe()
        .signed_with(tenpay_sign::SignType::Md5)
        .named(MerchantFields::named(Some("appid"), "mch_id"))
        .unsigned_answer();

    fn to_map(&self) -> Result<XmlMap, tenpay_xml::Error> {
        tenpay_xml::to_map(self)
    }

    fn decode(verifier: &Verifier, _key: &ApiKey, answer: Answer) -> Result<RedpackInfo, Error> {
        let (flat, items) = parse_records(&answer, Some("hblist"), "hbinfo", &[])?;
        let map = verifier.check_unsigned_fields(flat)?;
        let mut info: RedpackInfo = tenpay_xml::from_map(&map).map_err(Error::Decode)?;
        info.receivers = items
            .iter()
            .map(|m| tenpay_xml::from_map(m).map_err(Error::Decode))
            .collect::<Result<_, _>>()?;
        info.raw = map;
        Ok(info)
    }
}

macro_rules! confirm_redpack {
    ($t:ty) => {
        impl MovesMoney for $t {
            fn number(&self) -> &str {
                self.0.mch_billno.as_str()
            }

            fn read_code(code: &ErrCode) -> CodeReading {
                classify::read(Family::Redpack, code)
            }
        }

        impl Confirm for $t {
            type Query = RedpackQuery;

            fn query(&self) -> RedpackQuery {
                RedpackQuery::new(self.0.mch_billno.clone())
            }

            fn verdict(info: &RedpackInfo) -> QueryVerdict {
                match info.status {
                    RedpackStatus::Failed => QueryVerdict::Failed,
                    RedpackStatus::Sending => QueryVerdict::Pending,
                    // Sent: claimed or not, refunded later or not, the packet went out.
                    _ => QueryVerdict::Done,
                }
            }
        }
    };
}

confirm_redpack!(SendRedpack);
confirm_redpack!(MiniProgramRedpack);

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_nested_list_is_read_item_by_item() {
        let body = "<xml><return_code>SUCCESS</return_code><result_code>SUCCESS</result_code>\
            <mch_billno>B1</mch_billno><status>RECEIVED</status>\
            <hblist>\n<hbinfo><openid>o1</openid><amount>100</amount><rcv_time>2026-12-01 10:00:00</rcv_time></hbinfo>\
            <hbinfo><openid>o2</openid><amount>200</amount></hbinfo></hblist></xml>";
        let v = Verifier::new("wx1", "m1", tenpay_sign::SignType::Md5)
            .merchant_fields("appid", "mch_id");
        let key = ApiKey::new("192006250b4c09247ec02edce69f6a2d").unwrap();
        let info = RedpackQuery::decode(&v, &key, Answer::new(body)).unwrap();
        assert_eq!(info.status, RedpackStatus::Received);
        assert!(!info.raw.contains("hblist"));
        assert_eq!(info.receivers[0].openid, "o1");
        assert_eq!(info.receivers[1].amount, Fen::new(200));
        let head = "<xml><return_code>SUCCESS</return_code><result_code>SUCCESS</result_code>\
            <mch_billno>B1</mch_billno><status>RECEIVED</status>";
        for bad in [
            "<hblist><hbinfo><a>1</a></hbinfo></xml>",
            "<hblist>text</hblist></xml>",
            "<hblist><hbinfo><a><b>1</b></a></hbinfo></hblist></xml>",
            "<hblist></hblist><hblist></hblist></xml>",
            // A record's text inside another field is a value, not a record.
            "<reason><![CDATA[<hblist><hbinfo><openid>x</openid></hbinfo></hblist>]]></reason></xml>",
        ] {
            let read = RedpackQuery::decode(&v, &key, Answer::new(format!("{head}{bad}")));
            if bad.starts_with("<reason>") {
                let info = read.unwrap();
                assert!(info.receivers.is_empty(), "{bad}");
                assert!(info.reason.unwrap().contains("hbinfo"));
            } else {
                assert!(matches!(read, Err(Error::NotXml { .. })), "{bad}");
            }
        }
    }
}
