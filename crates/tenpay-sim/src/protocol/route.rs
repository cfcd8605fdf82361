//! Which endpoint a path names, and what each endpoint needs.

/// The endpoints, by their production path (without a sandbox prefix).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endpoint {
    UnifiedOrder,
    OrderQuery,
    CloseOrder,
    Refund,
    RefundQuery,
    DownloadBill,
    DownloadFundFlow,
    Micropay,
    Reverse,
    AuthCodeToOpenid,
    ShortUrl,
    GetSignKey,
    SendRedpack,
    SendMiniProgramRedpack,
    SendGroupRedpack,
    GetHbInfo,
    Transfers,
    GetTransferInfo,
    PayBank,
    QueryBank,
    GetPublicKey,
    AddReceiver,
    RemoveReceiver,
    ProfitSharing,
    MultiProfitSharing,
    SharingQuery,
    SharingFinish,
    SharingReturn,
    SharingReturnQuery,
    UnsplitAmount,
    PreEntrustWeb,
    QueryContract,
    DeleteContract,
    PapPayApply,
    PapOrderQuery,
    ContractOrder,
    DepositMicropay,
    DepositOrderQuery,
    DepositReverse,
    DepositConsume,
    DepositRefund,
    DepositRefundQuery,
    FaceAuthInfo,
    FacePay,
    FacePayQuery,
    FacePayReverse,
    CustomsDeclare,
    CustomsQuery,
    CustomsRedeclare,
    ExchangeRate,
    SendWeComRedpack,
    QueryWeComRedpack,
    RefundV2,
    RefundQueryV2,
    Report,
    BatchQueryComment,
    AddSubDevConfig,
    QuerySubDevConfig,
    DepositUnifiedOrder,
    DepositFacePay,
    SubMerchantAdd,
    SubMerchantQuery,
    ModifyMchInfo,
}

impl Endpoint {
    /// The endpoint for a path (and its query, where the endpoint is chosen by one: the
    /// bank service provider's `submchmanage?action=`) and whether it was under a sandbox
    /// prefix.
    pub(crate) fn route(path: &str, query: &str) -> Option<(Self, bool)> {
        if path == "/secapi/mch/submchmanage" {
            let action = query
                .split('&')
                .find_map(|pair| pair.strip_prefix("action="));
            return match action {
                Some("add") => Some((Self::SubMerchantAdd, false)),
                Some("query") => Some((Self::SubMerchantQuery, false)),
                _ => None,
            };
        }
        if path == "/sandboxnew/pay/getsignkey" || path == "/xdc/apiv2getsignkey/sign/getsignkey" {
            return Some((Self::GetSignKey, false));
        }
        // Money out: no sandbox (WeChat Pay's sandbox never had it).
        let payout = match path {
            "/mmpaymkttransfers/sendredpack" => Some(Self::SendRedpack),
            "/mmpaymkttransfers/sendminiprogramhb" => Some(Self::SendMiniProgramRedpack),
            "/mmpaymkttransfers/sendgroupredpack" => Some(Self::SendGroupRedpack),
            "/mmpaymkttransfers/gethbinfo" => Some(Self::GetHbInfo),
            "/mmpaymkttransfers/sendworkwxredpack" => Some(Self::SendWeComRedpack),
            "/payitil/report" => Some(Self::Report),
            "/secapi/mch/addsubdevconfig" => Some(Self::AddSubDevConfig),
            "/secapi/mch/querysubdevconfig" => Some(Self::QuerySubDevConfig),
            "/secapi/mch/modifymchinfo" => Some(Self::ModifyMchInfo),
            "/billcommentsp/batchquerycomment" => Some(Self::BatchQueryComment),
            "/mmpaymkttransfers/queryworkwxredpack" => Some(Self::QueryWeComRedpack),
            "/mmpaymkttransfers/promotion/transfers" => Some(Self::Transfers),
            "/mmpaymkttransfers/gettransferinfo" => Some(Self::GetTransferInfo),
            "/mmpaysptrans/pay_bank" => Some(Self::PayBank),
            "/mmpaysptrans/query_bank" => Some(Self::QueryBank),
            "/risk/getpublickey" => Some(Self::GetPublicKey),
            "/pay/profitsharingaddreceiver" => Some(Self::AddReceiver),
            "/pay/profitsharingremovereceiver" => Some(Self::RemoveReceiver),
            "/secapi/pay/profitsharing" => Some(Self::ProfitSharing),
            "/secapi/pay/multiprofitsharing" => Some(Self::MultiProfitSharing),
            "/pay/profitsharingquery" => Some(Self::SharingQuery),
            "/secapi/pay/profitsharingfinish" => Some(Self::SharingFinish),
            "/secapi/pay/profitsharingreturn" => Some(Self::SharingReturn),
            "/pay/profitsharingreturnquery" => Some(Self::SharingReturnQuery),
            "/pay/profitsharingorderamountquery" => Some(Self::UnsplitAmount),
            "/papay/preentrustweb" => Some(Self::PreEntrustWeb),
            "/papay/querycontract" => Some(Self::QueryContract),
            "/papay/deletecontract" => Some(Self::DeleteContract),
            "/pay/pappayapply" => Some(Self::PapPayApply),
            "/pay/paporderquery" => Some(Self::PapOrderQuery),
            "/pay/contractorder" => Some(Self::ContractOrder),
            // Deposits: no sandbox.
            "/deposit/micropay" => Some(Self::DepositMicropay),
            "/deposit/unifiedorder" => Some(Self::DepositUnifiedOrder),
            "/deposit/facepay" => Some(Self::DepositFacePay),
            "/deposit/orderquery" => Some(Self::DepositOrderQuery),
            "/deposit/reverse" => Some(Self::DepositReverse),
            "/deposit/consume" => Some(Self::DepositConsume),
            "/deposit/refund" => Some(Self::DepositRefund),
            "/deposit/refundquery" => Some(Self::DepositRefundQuery),
            // Face pay: no sandbox. The authinfo is on payapp.weixin.qq.com in production.
            "/face/get_wxpayface_authinfo" => Some(Self::FaceAuthInfo),
            "/pay/facepay" => Some(Self::FacePay),
            "/pay/facepayquery" => Some(Self::FacePayQuery),
            "/secapi/pay/facepayreverse" => Some(Self::FacePayReverse),
            "/cgi-bin/mch/customs/customdeclareorder" => Some(Self::CustomsDeclare),
            "/cgi-bin/mch/customs/customdeclarequery" => Some(Self::CustomsQuery),
            "/cgi-bin/mch/newcustoms/customdeclareredeclare" => Some(Self::CustomsRedeclare),
            "/pay/queryexchagerate" => Some(Self::ExchangeRate),
            _ => None,
        };
        if let Some(e) = payout {
            return Some((e, false));
        }
        let (rest, sandbox) = match path
            .strip_prefix("/sandboxnew")
            .or_else(|| path.strip_prefix("/xdc/apiv2sandbox"))
        {
            Some(rest) => (rest, true),
            None => (path, false),
        };
        let e = match rest {
            "/pay/unifiedorder" => Self::UnifiedOrder,
            "/pay/orderquery" => Self::OrderQuery,
            "/pay/closeorder" => Self::CloseOrder,
            // GOPAY uses /sandboxnew/pay/refund; accept it in the sandbox.
            "/secapi/pay/refund" => Self::Refund,
            "/pay/refund" if sandbox => Self::Refund,
            "/pay/refundquery" => Self::RefundQuery,
            "/secapi/pay/refundv2" => Self::RefundV2,
            "/pay/refundqueryv2" => Self::RefundQueryV2,
            "/pay/downloadbill" => Self::DownloadBill,
            "/pay/downloadfundflow" => Self::DownloadFundFlow,
            "/pay/micropay" => Self::Micropay,
            "/secapi/pay/reverse" => Self::Reverse,
            "/tools/authcodetoopenid" => Self::AuthCodeToOpenid,
            "/tools/shorturl" => Self::ShortUrl,
            _ => return None,
        };
        Some((e, sandbox))
    }

    /// Whether the endpoint needs the merchant's client certificate.
    pub(crate) fn secapi(self) -> bool {
        self.is_payout()
            || matches!(
                self,
                Self::Refund
                    | Self::AddSubDevConfig
                    | Self::QuerySubDevConfig
                    | Self::SubMerchantAdd
                    | Self::SubMerchantQuery
                    | Self::ModifyMchInfo
                    | Self::BatchQueryComment
                    | Self::RefundV2
                    | Self::Reverse
                    | Self::DepositReverse
                    | Self::FacePayReverse
                    | Self::DepositConsume
                    | Self::DepositRefund
                    | Self::DownloadFundFlow
                    | Self::ProfitSharing
                    | Self::MultiProfitSharing
                    | Self::SharingFinish
                    | Self::SharingReturn
            )
    }

    /// Papay's contract calls, customs and the exchange rate carry no `nonce_str`.
    pub(crate) fn nonceless(self) -> bool {
        matches!(
            self,
            Self::PreEntrustWeb
                | Self::QueryContract
                | Self::DeleteContract
                | Self::CustomsDeclare
                | Self::CustomsQuery
                | Self::CustomsRedeclare
                | Self::ExchangeRate
                | Self::AddSubDevConfig
                | Self::QuerySubDevConfig
                | Self::SubMerchantAdd
                | Self::SubMerchantQuery
                | Self::ModifyMchInfo
        )
    }

    /// The bank service provider's `submchmanage` answers under the root `root`, as a bank
    /// provider's production code reads them.
    pub(crate) fn answers_under_root(self) -> bool {
        matches!(self, Self::SubMerchantAdd | Self::SubMerchantQuery)
    }

    /// The service provider's administration: MD5 only, and the sub-merchant a request
    /// names is its subject (checked by the call, not as the request's merchant).
    pub(crate) fn is_sp_admin(self) -> bool {
        matches!(
            self,
            Self::AddSubDevConfig
                | Self::QuerySubDevConfig
                | Self::SubMerchantAdd
                | Self::SubMerchantQuery
                | Self::ModifyMchInfo
        )
    }

    /// The calls that take HMAC-SHA256 only: the deposit's micropay, consume and refund; face
    /// pay's charge, and its authinfo (whose `sign_type` is required).
    pub(crate) fn hmac_only_deposit(self) -> bool {
        matches!(
            self,
            Self::DepositMicropay
                | Self::DepositConsume
                | Self::DepositRefund
                | Self::DepositFacePay
                | Self::FacePay
                | Self::FaceAuthInfo
        )
    }

    /// Customs declaration: MD5 only.
    pub(crate) fn is_customs(self) -> bool {
        matches!(
            self,
            Self::CustomsDeclare | Self::CustomsQuery | Self::CustomsRedeclare
        )
    }

    /// Profit sharing: HMAC-SHA256 only.
    pub(crate) fn is_sharing(self) -> bool {
        matches!(
            self,
            Self::AddReceiver
                | Self::RemoveReceiver
                | Self::ProfitSharing
                | Self::MultiProfitSharing
                | Self::SharingQuery
                | Self::SharingFinish
                | Self::SharingReturn
                | Self::SharingReturnQuery
                | Self::UnsplitAmount
        )
    }

    /// The money-out family: MD5 only, unsigned answers, its own merchant field names.
    pub(crate) fn is_payout(self) -> bool {
        matches!(
            self,
            Self::SendRedpack
                | Self::SendMiniProgramRedpack
                | Self::SendGroupRedpack
                | Self::GetHbInfo
                | Self::SendWeComRedpack
                | Self::QueryWeComRedpack
                | Self::Transfers
                | Self::GetTransferInfo
                | Self::PayBank
                | Self::QueryBank
                | Self::GetPublicKey
        )
    }

    /// The fields that name the merchant: the appid's (none for some endpoints) and the
    /// mch_id's.
    pub(crate) fn merchant_fields(self) -> (Option<&'static str>, &'static str) {
        match self {
            Self::SendRedpack | Self::SendMiniProgramRedpack | Self::SendGroupRedpack => {
                (Some("wxappid"), "mch_id")
            }
            Self::Transfers => (Some("mch_appid"), "mchid"),
            Self::GetSignKey
            | Self::SendWeComRedpack
            | Self::QueryWeComRedpack
            | Self::PayBank
            | Self::QueryBank
            | Self::GetPublicKey
            | Self::SharingQuery
            | Self::UnsplitAmount
            | Self::ModifyMchInfo => (None, "mch_id"),
            _ => (Some("appid"), "mch_id"),
        }
    }

    /// The name used for faults and call counts.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::UnifiedOrder => "unifiedorder",
            Self::OrderQuery => "orderquery",
            Self::CloseOrder => "closeorder",
            Self::Refund => "refund",
            Self::RefundQuery => "refundquery",
            Self::DownloadBill => "downloadbill",
            Self::DownloadFundFlow => "downloadfundflow",
            Self::Micropay => "micropay",
            Self::Reverse => "reverse",
            Self::AuthCodeToOpenid => "authcodetoopenid",
            Self::ShortUrl => "shorturl",
            Self::GetSignKey => "getsignkey",
            Self::SendRedpack => "sendredpack",
            Self::SendMiniProgramRedpack => "sendminiprogramhb",
            Self::SendGroupRedpack => "sendgroupredpack",
            Self::GetHbInfo => "gethbinfo",
            Self::Transfers => "transfers",
            Self::GetTransferInfo => "gettransferinfo",
            Self::PayBank => "pay_bank",
            Self::QueryBank => "query_bank",
            Self::GetPublicKey => "getpublickey",
            Self::AddReceiver => "profitsharingaddreceiver",
            Self::RemoveReceiver => "profitsharingremovereceiver",
            Self::ProfitSharing => "profitsharing",
            Self::MultiProfitSharing => "multiprofitsharing",
            Self::SharingQuery => "profitsharingquery",
            Self::SharingFinish => "profitsharingfinish",
            Self::SharingReturn => "profitsharingreturn",
            Self::SharingReturnQuery => "profitsharingreturnquery",
            Self::UnsplitAmount => "profitsharingorderamountquery",
            Self::PreEntrustWeb => "preentrustweb",
            Self::QueryContract => "querycontract",
            Self::DeleteContract => "deletecontract",
            Self::PapPayApply => "pappayapply",
            Self::PapOrderQuery => "paporderquery",
            Self::ContractOrder => "contractorder",
            Self::DepositMicropay => "deposit/micropay",
            Self::DepositUnifiedOrder => "deposit/unifiedorder",
            Self::DepositFacePay => "deposit/facepay",
            Self::DepositOrderQuery => "deposit/orderquery",
            Self::DepositReverse => "deposit/reverse",
            Self::DepositConsume => "deposit/consume",
            Self::DepositRefund => "deposit/refund",
            Self::DepositRefundQuery => "deposit/refundquery",
            Self::FaceAuthInfo => "get_wxpayface_authinfo",
            Self::FacePay => "facepay",
            Self::FacePayQuery => "facepayquery",
            Self::FacePayReverse => "facepayreverse",
            Self::CustomsDeclare => "customdeclareorder",
            Self::CustomsQuery => "customdeclarequery",
            Self::CustomsRedeclare => "customdeclareredeclare",
            Self::ExchangeRate => "queryexchagerate",
            Self::SendWeComRedpack => "sendworkwxredpack",
            Self::QueryWeComRedpack => "queryworkwxredpack",
            Self::RefundV2 => "refundv2",
            Self::RefundQueryV2 => "refundqueryv2",
            Self::Report => "report",
            Self::BatchQueryComment => "batchquerycomment",
            Self::AddSubDevConfig => "addsubdevconfig",
            Self::QuerySubDevConfig => "querysubdevconfig",
            Self::SubMerchantAdd => "submchmanage/add",
            Self::SubMerchantQuery => "submchmanage/query",
            Self::ModifyMchInfo => "modifymchinfo",
        }
    }

    /// The fields without which the endpoint answers `return_code=FAIL` "缺少参数…".
    pub(crate) fn required(self) -> &'static [&'static str] {
        match self {
            Self::UnifiedOrder => &[
                "body",
                "out_trade_no",
                "total_fee",
                "spbill_create_ip",
                "notify_url",
                "trade_type",
            ],
            Self::CloseOrder => &["out_trade_no"],
            Self::Refund | Self::RefundV2 => &["out_refund_no", "total_fee", "refund_fee"],
            Self::DownloadBill => &["bill_date"],
            Self::DownloadFundFlow => &["bill_date", "account_type"],
            Self::Micropay => &[
                "body",
                "out_trade_no",
                "total_fee",
                "spbill_create_ip",
                "auth_code",
            ],
            Self::AuthCodeToOpenid => &["auth_code"],
            Self::DepositMicropay => &[
                "body",
                "out_trade_no",
                "total_fee",
                "fee_type",
                "spbill_create_ip",
                "auth_code",
                "deposit",
            ],
            Self::DepositConsume => &["total_fee", "consume_fee", "fee_type"],
            Self::DepositRefund => &["out_refund_no", "total_fee", "refund_fee"],
            Self::CustomsDeclare => &[
                "out_trade_no",
                "transaction_id",
                "customs",
                "mch_customs_no",
            ],
            Self::CustomsQuery => &["customs"],
            Self::CustomsRedeclare => &["customs", "mch_customs_no"],
            Self::ExchangeRate => &["fee_type", "date"],
            Self::SendWeComRedpack => &[
                "mch_billno",
                "wxappid",
                "re_openid",
                "total_amount",
                "wishing",
                "act_name",
                "remark",
                "workwx_sign",
            ],
            Self::QueryWeComRedpack => &["mch_billno", "appid"],
            Self::Report => &["interface_url", "user_ip"],
            Self::BatchQueryComment => &["begin_time", "end_time", "offset"],
            Self::AddSubDevConfig | Self::QuerySubDevConfig | Self::ModifyMchInfo => {
                &["sub_mch_id"]
            }
            Self::SubMerchantAdd => &[
                "merchant_name",
                "merchant_shortname",
                "service_phone",
                "business",
                "merchant_remark",
            ],
            Self::SubMerchantQuery => &["page_index"],
            Self::FaceAuthInfo => &[
                "store_id",
                "store_name",
                "device_id",
                "rawdata",
                "now",
                "version",
            ],
            Self::DepositUnifiedOrder => &[
                "body",
                "out_trade_no",
                "total_fee",
                "fee_type",
                "spbill_create_ip",
                "notify_url",
                "trade_type",
                "deposit",
            ],
            Self::DepositFacePay => &[
                "body",
                "out_trade_no",
                "total_fee",
                "fee_type",
                "spbill_create_ip",
                "face_code",
                "deposit",
            ],
            Self::FacePay => &[
                "body",
                "out_trade_no",
                "total_fee",
                "spbill_create_ip",
                "face_code",
            ],
            Self::ShortUrl => &["long_url"],
            Self::SendRedpack => &[
                "mch_billno",
                "send_name",
                "re_openid",
                "total_amount",
                "total_num",
                "wishing",
                "client_ip",
                "act_name",
                "remark",
            ],
            Self::SendMiniProgramRedpack => &[
                "mch_billno",
                "send_name",
                "re_openid",
                "total_amount",
                "total_num",
                "wishing",
                "act_name",
                "remark",
                "notify_way",
            ],
            Self::GetHbInfo => &["mch_billno", "bill_type"],
            Self::Transfers => &[
                "partner_trade_no",
                "openid",
                "check_name",
                "amount",
                "desc",
                "spbill_create_ip",
            ],
            Self::GetTransferInfo | Self::QueryBank => &["partner_trade_no"],
            Self::PayBank => &[
                "partner_trade_no",
                "enc_bank_no",
                "enc_true_name",
                "bank_code",
                "amount",
            ],
            Self::GetPublicKey => &["sign_type"],
            Self::AddReceiver | Self::RemoveReceiver => &["receiver"],
            Self::ProfitSharing | Self::MultiProfitSharing => {
                &["transaction_id", "out_order_no", "receivers"]
            }
            Self::SharingQuery => &["transaction_id", "out_order_no"],
            Self::SharingFinish => &["transaction_id", "out_order_no", "description"],
            Self::SharingReturn => &[
                "out_order_no",
                "out_return_no",
                "return_account_type",
                "return_account",
                "return_amount",
                "description",
            ],
            Self::SharingReturnQuery => &["out_order_no", "out_return_no"],
            Self::UnsplitAmount => &["transaction_id"],
            Self::PreEntrustWeb => &[
                "plan_id",
                "contract_code",
                "request_serial",
                "contract_display_account",
                "notify_url",
                "timestamp",
            ],
            Self::DeleteContract => &["contract_termination_remark"],
            Self::PapPayApply => &[
                "body",
                "out_trade_no",
                "total_fee",
                "spbill_create_ip",
                "notify_url",
                "trade_type",
                "contract_id",
            ],
            Self::ContractOrder => &[
                "body",
                "out_trade_no",
                "total_fee",
                "spbill_create_ip",
                "notify_url",
                "trade_type",
                "plan_id",
                "contract_code",
                "request_serial",
                "contract_display_account",
                "contract_notify_url",
            ],
            Self::QueryContract | Self::PapOrderQuery => &[],
            Self::OrderQuery
            | Self::RefundQuery
            | Self::Reverse
            | Self::GetSignKey
            | Self::SendGroupRedpack
            | Self::DepositOrderQuery
            | Self::DepositReverse
            | Self::DepositRefundQuery
            | Self::FacePayQuery
            | Self::RefundQueryV2
            | Self::FacePayReverse => &[],
        }
    }
}
