//! Service-provider administration still on V2: a sub-merchant's development configuration
//! (its JSAPI payment directories and bound appids), and a bank service provider's
//! sub-merchants (`submchmanage`, `modifymchinfo`). Certificate, MD5, no `nonce_str`.
//!
//! **Unconfirmed** (V2-FAMILIES §9.13): WeChat Pay publishes no complete table for
//! `submchmanage`, and how its query answer nests the merchants. This module builds what the
//! sources agree on: the add fields a bank service provider's production code sends, the
//! query answer as repeated `<mchinfo>` records (or, with none, one merchant's fields flat),
//! under the root `xml` or `root` (which that code reads too). A signature present is
//! verified over the flat fields; an answer without one is read as a claim. For anything
//! else, [`RawCall`](crate::RawCall) sends any fields to any path.

use serde::{Deserialize, Serialize};
use tenpay_sign::{ApiKey, SignType};
use tenpay_xml::XmlMap;

use crate::answer::parse_records;
use crate::endpoint::{Endpoint, Finish, MerchantFields, endpoint, finished, keep_raw};
use crate::{Answer, Error, Route, Verifier};

/// The service provider's administration calls: certificate, MD5, no nonce, the
/// provider's `appid` and `mch_id` and no sub-merchant fields of its own (the sub-merchant
/// is the call's subject). At `addsubdevconfig`; the others take its rules at their path.
const SP_ADMIN: Route<'static> = Route::new("/secapi/mch/addsubdevconfig")
    .certificate()
    .signed_with(SignType::Md5)
    .without_nonce()
    .named(MerchantFields::named(Some("appid"), "mch_id"));

/// `/secapi/mch/addsubdevconfig`: one setting of a sub-merchant per call, a JSAPI payment
/// directory (at most 5) or a bound appid. Safe to repeat.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct SubDevConfig {
    sub_mch_id: String,
    jsapi_path: Option<String>,
    sub_appid: Option<String>,
}

impl SubDevConfig {
    /// Adds the JSAPI payment directory `path` (`https://…/`) of `sub_mch_id`.
    pub fn jsapi_path(sub_mch_id: impl Into<String>, path: impl Into<String>) -> Self {
        Self {
            sub_mch_id: sub_mch_id.into(),
            jsapi_path: Some(path.into()),
            sub_appid: None,
        }
    }

    /// Binds `sub_appid` to `sub_mch_id` (WeChat Pay checks they have the same owner).
    pub fn sub_appid(sub_mch_id: impl Into<String>, sub_appid: impl Into<String>) -> Self {
        Self {
            sub_mch_id: sub_mch_id.into(),
            jsapi_path: None,
            sub_appid: Some(sub_appid.into()),
        }
    }
}

/// The answer to [`SubDevConfig`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct SubDevConfigured {
    /// Every field of the verified answer.
    #[serde(skip)]
    pub raw: XmlMap,
}

keep_raw!(SubDevConfigured);

endpoint!(SubDevConfig => SubDevConfigured, SP_ADMIN.retry_safe());

/// `/secapi/mch/querysubdevconfig`: a sub-merchant's configuration. Safe to repeat.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct SubDevConfigQuery {
    sub_mch_id: String,
}

impl SubDevConfigQuery {
    /// The configuration of `sub_mch_id`.
    pub fn new(sub_mch_id: impl Into<String>) -> Self {
        Self {
            sub_mch_id: sub_mch_id.into(),
        }
    }
}

/// An appid bound to a sub-merchant.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct AppidConfig {
    /// The appid users follow after paying.
    pub subscribe_appid: Option<String>,
    /// The bound appid.
    pub sub_appid: Option<String>,
}

/// The answer to [`SubDevConfigQuery`]: the lists WeChat Pay sends as JSON text.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct SubDevConfiguration {
    /// The JSAPI payment directories.
    #[serde(skip)]
    pub jsapi_paths: Vec<String>,
    /// The bound appids.
    #[serde(skip)]
    pub appids: Vec<AppidConfig>,
    /// Every field of the verified answer.
    #[serde(skip)]
    pub raw: XmlMap,
}

impl Finish for SubDevConfiguration {
    fn finish(&mut self, raw: XmlMap) -> Result<(), Error> {
        #[derive(Deserialize)]
        struct Paths {
            #[serde(default)]
            jsapi_path_list: Vec<String>,
        }
        #[derive(Deserialize)]
        struct Appids {
            #[serde(default)]
            appid_config_list: Vec<AppidConfig>,
        }
        fn json<T: serde::de::DeserializeOwned>(
            raw: &XmlMap,
            field: &str,
        ) -> Result<Option<T>, Error> {
            raw.get(field)
                .filter(|t| !t.is_empty())
                .map(|t| {
                    serde_json::from_str(t).map_err(|e| {
                        Error::Decode(tenpay_xml::Error::InvalidValue {
                            field: field.to_owned(),
                            reason: e.to_string(),
                        })
                    })
                })
                .transpose()
        }
        self.jsapi_paths = json::<Paths>(&raw, "jsapi_path_list")?
            .map(|p| p.jsapi_path_list)
            .unwrap_or_default();
        self.appids = json::<Appids>(&raw, "appid_config_list")?
            .map(|a| a.appid_config_list)
            .unwrap_or_default();
        self.raw = raw;
        Ok(())
    }
}

endpoint!(SubDevConfigQuery => SubDevConfiguration,
    SP_ADMIN.at("/secapi/mch/querysubdevconfig").retry_safe());

/// `/secapi/mch/submchmanage?action=add` (bank service providers, 银行服务商): registers a
/// sub-merchant and answers its `sub_mch_id`. Not repeated after an unknown outcome: look
/// the merchant up with [`SubMerchantQuery::by_name`] first. The field table is
/// unconfirmed (see the module).
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct SubMerchantAdd {
    merchant_name: String,
    merchant_shortname: String,
    service_phone: String,
    business: String,
    merchant_remark: String,
    channel_id: Option<String>,
    contact: Option<String>,
    contact_phone: Option<String>,
    contact_email: Option<String>,
    contact_wechatid_type: Option<String>,
    contact_wechatid: Option<String>,
}

impl SubMerchantAdd {
    /// The merchant `merchant_name` (shown to payers as `merchant_shortname`), its service
    /// phone, its `business` category id, and `merchant_remark`, the provider's own unique
    /// reference for it.
    pub fn new(
        merchant_name: impl Into<String>,
        merchant_shortname: impl Into<String>,
        service_phone: impl Into<String>,
        business: impl Into<String>,
        merchant_remark: impl Into<String>,
    ) -> Self {
        Self {
            merchant_name: merchant_name.into(),
            merchant_shortname: merchant_shortname.into(),
            service_phone: service_phone.into(),
            business: business.into(),
            merchant_remark: merchant_remark.into(),
            channel_id: None,
            contact: None,
            contact_phone: None,
            contact_email: None,
            contact_wechatid_type: None,
            contact_wechatid: None,
        }
    }

    /// The channel (渠道商) the merchant comes through.
    #[must_use]
    pub fn channel_id(mut self, channel_id: impl Into<String>) -> Self {
        self.channel_id = Some(channel_id.into());
        self
    }

    /// The contact person.
    #[must_use]
    pub fn contact(
        mut self,
        name: impl Into<String>,
        phone: impl Into<String>,
        email: Option<String>,
    ) -> Self {
        self.contact = Some(name.into());
        self.contact_phone = Some(phone.into());
        self.contact_email = email;
        self
    }

    /// The contact's WeChat id, of `kind` (`type_wechatid` or `type_openid`).
    #[must_use]
    pub fn contact_wechat(mut self, kind: impl Into<String>, id: impl Into<String>) -> Self {
        self.contact_wechatid_type = Some(kind.into());
        self.contact_wechatid = Some(id.into());
        self
    }
}

/// The answer to [`SubMerchantAdd`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct SubMerchantAdded {
    /// The new sub-merchant's id.
    pub sub_mch_id: String,
    /// Every flat field of the answer.
    #[serde(skip)]
    pub raw: XmlMap,
}

keep_raw!(SubMerchantAdded);

endpoint!(SubMerchantAdd => SubMerchantAdded,
    SP_ADMIN.at("/secapi/mch/submchmanage?action=add"),
    decode: decode_bank_sp::<SubMerchantAdd>);

/// `/secapi/mch/submchmanage?action=query`: the provider's sub-merchants by id or by name,
/// a page at a time. Safe to repeat.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct SubMerchantQuery {
    sub_mch_id: Option<String>,
    merchant_name: Option<String>,
    page_index: u32,
    page_size: Option<u32>,
}

impl SubMerchantQuery {
    /// The sub-merchant `sub_mch_id`.
    pub fn by_id(sub_mch_id: impl Into<String>) -> Self {
        Self {
            sub_mch_id: Some(sub_mch_id.into()),
            merchant_name: None,
            page_index: 1,
            page_size: None,
        }
    }

    /// The sub-merchants named `merchant_name`.
    pub fn by_name(merchant_name: impl Into<String>) -> Self {
        Self {
            sub_mch_id: None,
            merchant_name: Some(merchant_name.into()),
            page_index: 1,
            page_size: None,
        }
    }

    /// Page `index` (from 1) of `size` merchants.
    #[must_use]
    pub fn page(mut self, index: u32, size: u32) -> Self {
        self.page_index = index.max(1);
        self.page_size = Some(size);
        self
    }
}

/// One sub-merchant in a [`SubMerchantQuery`] answer.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct SubMerchantInfo {
    /// Its id (`mch_id` in the record; `sub_mch_id` where a flat answer names it so).
    #[serde(alias = "sub_mch_id")]
    pub mch_id: Option<String>,
    /// Its name.
    pub merchant_name: Option<String>,
    /// Its short name.
    pub merchant_shortname: Option<String>,
    /// Its service phone.
    pub service_phone: Option<String>,
    /// The contact person.
    pub contact: Option<String>,
    /// The contact's phone.
    pub contact_phone: Option<String>,
    /// The contact's email.
    pub contact_email: Option<String>,
    /// The business category id.
    pub business: Option<String>,
    /// The provider's reference.
    pub merchant_remark: Option<String>,
    /// The channel.
    pub channel_id: Option<String>,
    /// The channel's name.
    pub channel_name: Option<String>,
}

/// The answer to [`SubMerchantQuery`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct SubMerchants {
    /// How many match, over every page.
    pub total: Option<u32>,
    /// This page's merchants.
    #[serde(skip)]
    pub merchants: Vec<SubMerchantInfo>,
    /// Every flat field of the answer.
    #[serde(skip)]
    pub raw: XmlMap,
}

impl Endpoint for SubMerchantQuery {
    type Response = SubMerchants;
    const ROUTE: Route<'static> = SP_ADMIN
        .at("/secapi/mch/submchmanage?action=query")
        .retry_safe();

    fn to_map(&self) -> Result<XmlMap, tenpay_xml::Error> {
        tenpay_xml::to_map(self)
    }

    fn decode(verifier: &Verifier, key: &ApiKey, answer: Answer) -> Result<SubMerchants, Error> {
        let (map, items) = read_bank_sp(verifier, key, &answer)?;
        let mut found: SubMerchants = tenpay_xml::from_map(&map).map_err(Error::Decode)?;
        found.merchants = if items.is_empty() && map.contains("merchant_name") {
            // One merchant flat: its id is `sub_mch_id`; `mch_id` is the provider's.
            let mut one = map.clone();
            one.remove("mch_id");
            vec![tenpay_xml::from_map(&one).map_err(Error::Decode)?]
        } else {
            items
                .iter()
                .map(|m| tenpay_xml::from_map(m).map_err(Error::Decode))
                .collect::<Result<_, _>>()?
        };
        found.raw = map;
        Ok(found)
    }
}

/// `/secapi/mch/modifymchinfo`: changes a bank service provider's sub-merchant's short
/// name or service phone. Safe to repeat (the same values again change nothing).
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct SubMerchantModify {
    sub_mch_id: String,
    merchant_shortname: Option<String>,
    service_phone: Option<String>,
}

impl SubMerchantModify {
    /// Changes to `sub_mch_id`; set at least one.
    pub fn new(sub_mch_id: impl Into<String>) -> Self {
        Self {
            sub_mch_id: sub_mch_id.into(),
            merchant_shortname: None,
            service_phone: None,
        }
    }

    /// A new short name.
    #[must_use]
    pub fn shortname(mut self, name: impl Into<String>) -> Self {
        self.merchant_shortname = Some(name.into());
        self
    }

    /// A new service phone.
    #[must_use]
    pub fn service_phone(mut self, phone: impl Into<String>) -> Self {
        self.service_phone = Some(phone.into());
        self
    }
}

/// The answer to [`SubMerchantModify`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct SubMerchantModified {
    /// Every field of the answer.
    #[serde(skip)]
    pub raw: XmlMap,
}

keep_raw!(SubMerchantModified);

endpoint!(SubMerchantModify => SubMerchantModified,
    SP_ADMIN
        .at("/secapi/mch/modifymchinfo")
        .named(MerchantFields::named(None, "mch_id"))
        .retry_safe(),
    decode: decode_bank_sp::<SubMerchantModify>);

/// A bank service provider's answer (see the module): under `xml` or `root`, its flat
/// fields checked, signed or not, and its `<mchinfo>` records. The sub-merchant it names is
/// its subject, not the request's merchant.
fn read_bank_sp(
    verifier: &Verifier,
    key: &ApiKey,
    answer: &Answer,
) -> Result<(XmlMap, Vec<XmlMap>), Error> {
    let (flat, records) = parse_records(answer, None, "mchinfo", &["root"])?;
    let verifier = verifier.clone().about_sub_merchants();
    let map = if flat.contains("sign") {
        verifier.verify_fields(key, flat)?
    } else {
        verifier.check_unsigned_fields(flat)?
    };
    Ok((map, records))
}

fn decode_bank_sp<E>(
    verifier: &Verifier,
    key: &ApiKey,
    answer: Answer,
) -> Result<E::Response, Error>
where
    E: Endpoint,
    E::Response: serde::de::DeserializeOwned + Finish,
{
    let (map, records) = read_bank_sp(verifier, key, &answer)?;
    if !records.is_empty() {
        return Err(Error::NotXml {
            reason: "merchant records in an answer that has none".into(),
            excerpt: String::new(),
        });
    }
    finished(map)
}
