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
    GetSignKey,
}

impl Endpoint {
    /// The endpoint for a path and whether it was under a sandbox prefix.
    pub(crate) fn route(path: &str) -> Option<(Self, bool)> {
        if path == "/sandboxnew/pay/getsignkey" || path == "/xdc/apiv2getsignkey/sign/getsignkey" {
            return Some((Self::GetSignKey, false));
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
            "/pay/downloadbill" => Self::DownloadBill,
            "/pay/downloadfundflow" => Self::DownloadFundFlow,
            "/pay/micropay" => Self::Micropay,
            "/secapi/pay/reverse" => Self::Reverse,
            "/tools/authcodetoopenid" => Self::AuthCodeToOpenid,
            _ => return None,
        };
        Some((e, sandbox))
    }

    /// Whether the endpoint needs the merchant's client certificate.
    pub(crate) fn secapi(self) -> bool {
        matches!(self, Self::Refund | Self::Reverse | Self::DownloadFundFlow)
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
            Self::GetSignKey => "getsignkey",
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
            Self::Refund => &["out_refund_no", "total_fee", "refund_fee"],
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
            Self::OrderQuery | Self::RefundQuery | Self::Reverse | Self::GetSignKey => &[],
        }
    }
}
