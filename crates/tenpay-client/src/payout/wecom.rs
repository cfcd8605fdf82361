//! WeCom red packets (企业红包): sent from a WeCom corp's payment app to a member
//! (`sendworkwxredpack`) and read back (`queryworkwxredpack`). Like cash packets they need the
//! certificate, are signed MD5 and answered unsigned; a send also carries WeCom's second
//! signature, `workwx_sign`, made with the corp's payment secret
//! ([`Merchant::with_wecom_secret`](crate::Merchant::with_wecom_secret)). `wxappid` is the
//! WeCom corpid, not an app's appid, and there is no `total_num`, `client_ip` or `send_name`.
//!
//! Cash red packets are closed to new merchants since 2026-06-18 (existing merchants keep
//! them); no such notice was found for WeCom packets.

use serde::{Deserialize, Serialize};
use tenpay_xml::{ErrCode, Fen, MchBillno, XmlMap};

use super::classify::{self, Family};
use super::redpack::{RedpackSent, RedpackStatus};
use super::settle::payout_route;
use crate::endpoint::{MerchantFields, endpoint, keep_raw};
use crate::outcome::{CodeReading, MovesMoney};

/// The fields `workwx_sign` covers.
const WORKWX_FIELDS: &[&str] = &[
    "act_name",
    "mch_billno",
    "mch_id",
    "nonce_str",
    "re_openid",
    "total_amount",
    "wxappid",
];

/// `/mmpaymkttransfers/sendworkwxredpack`: a packet of `total_amount` to the member
/// `re_openid` (the openid converted from their userid) of the corp `corpid`. Resending the
/// same `mch_billno` is the same packet.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct WeComRedpack {
    mch_billno: MchBillno,
    wxappid: String,
    agentid: Option<String>,
    sender_name: Option<String>,
    sender_header_media_id: Option<String>,
    re_openid: String,
    total_amount: Fen,
    wishing: String,
    act_name: String,
    remark: String,
    scene_id: Option<String>,
}

impl WeComRedpack {
    /// A packet from the app `agentid` of the corp `corpid` (or from a sender name: see
    /// [`WeComRedpack::from_sender`]).
    #[allow(clippy::too_many_arguments)] // the protocol's required fields
    pub fn new(
        mch_billno: MchBillno,
        corpid: impl Into<String>,
        agentid: impl Into<String>,
        re_openid: impl Into<String>,
        total_amount: Fen,
        wishing: impl Into<String>,
        act_name: impl Into<String>,
        remark: impl Into<String>,
    ) -> Self {
        Self {
            mch_billno,
            wxappid: corpid.into(),
            agentid: Some(agentid.into()),
            sender_name: None,
            sender_header_media_id: None,
            re_openid: re_openid.into(),
            total_amount,
            wishing: wishing.into(),
            act_name: act_name.into(),
            remark: remark.into(),
            scene_id: None,
        }
    }

    /// Sent in the name `sender_name` (with its avatar's `media_id`, if any) instead of an
    /// app: the two are exclusive.
    #[must_use]
    pub fn from_sender(
        mut self,
        sender_name: impl Into<String>,
        header_media_id: Option<String>,
    ) -> Self {
        self.agentid = None;
        self.sender_name = Some(sender_name.into());
        self.sender_header_media_id = header_media_id;
        self
    }

    /// `scene_id` (`PRODUCT_1` … `PRODUCT_8`): required below 1 yuan and above 200 yuan.
    #[must_use]
    pub fn scene_id(mut self, scene: impl Into<String>) -> Self {
        self.scene_id = Some(scene.into());
        self
    }
}

endpoint!(WeComRedpack => RedpackSent,
    payout_route("/mmpaymkttransfers/sendworkwxredpack", MerchantFields::named(None, "mch_id"))
        .countersigned("workwx_sign", WORKWX_FIELDS)
        .moving_money());

/// Read as a cash packet's send.
impl MovesMoney for WeComRedpack {
    fn number(&self) -> &str {
        self.mch_billno.as_str()
    }

    fn read_code(code: &ErrCode) -> CodeReading {
        classify::read(Family::Redpack, code)
    }
}

/// `/mmpaymkttransfers/queryworkwxredpack`: a WeCom packet by its number (30 days;
/// `NOT_FOUND` may mean "still being sent").
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct WeComRedpackQuery {
    mch_billno: MchBillno,
    appid: String,
}

impl WeComRedpackQuery {
    /// The packet `mch_billno` of the corp `corpid`.
    pub fn new(mch_billno: MchBillno, corpid: impl Into<String>) -> Self {
        Self {
            mch_billno,
            appid: corpid.into(),
        }
    }
}

/// A WeCom packet's record (flat).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct WeComRedpackInfo {
    /// The number.
    pub mch_billno: String,
    /// WeChat Pay's number for it.
    pub detail_id: Option<String>,
    /// The state.
    pub status: RedpackStatus,
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
    /// The receiver.
    pub openid: Option<String>,
    /// When it was received.
    pub rcv_time: Option<String>,
    /// The sender's name.
    pub sender_name: Option<String>,
    /// Every field.
    #[serde(skip)]
    pub raw: XmlMap,
}

keep_raw!(WeComRedpackInfo);

endpoint!(WeComRedpackQuery => WeComRedpackInfo,
    payout_route("/mmpaymkttransfers/queryworkwxredpack", MerchantFields::named(None, "mch_id")));

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::{Merchant, MerchantExt as _};
    use tenpay_sign::{ApiKey, SignType};

    /// V2-FAMILIES §9.10's vector through the one signing function: `workwx_sign` over the
    /// seven fields with the secret, then `sign` over everything, `workwx_sign` included.
    #[test]
    fn workwx_sign_is_the_documented_second_signature_and_sign_covers_it() {
        let key = ApiKey::new("192006250b4c09247ec02edce69f6a2d").unwrap();
        let m = Merchant::new("wxunused", "10000098", key.clone(), SignType::Md5)
            .with_wecom_secret(key.clone());
        let p = WeComRedpack::new(
            MchBillno::new("11111234567890").unwrap(),
            "wx123456789",
            "1000002",
            "oxTWIuGaIt6gTKsQRLau2M0yL16E",
            Fen::new(100),
            "w",
            "XXX",
            "r",
        );
        let body = m.sign_with_nonce(&p, "qFKEgfig76DF9912fewmkp").unwrap();
        let map = XmlMap::parse(body.as_bytes()).unwrap();
        assert_eq!(
            map.get("workwx_sign"),
            Some("8B8D04AFC9FD08094CC5A0C2FA8BB60C")
        );
        assert_eq!(map.get("appid"), None, "wxappid is the corpid; no appid");
        map.verify(&key, SignType::Md5).unwrap();
    }
}
