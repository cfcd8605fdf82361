//! `err_code`: the business error of a `result_code=FAIL` answer or notification.

crate::wire_enum!(
    /// `err_code` of a `result_code=FAIL` answer.
    ErrCode {
        /// System timeout or error: the result is unknown; repeat the same request.
        SystemError = "SYSTEMERROR",
        /// Bank-side timeout (payment code): query the order.
        BankError = "BANKERROR",
        /// The user is entering the password (payment code): poll, then reverse.
        UserPaying = "USERPAYING",
        /// Concurrency conflict (refund): repeat the same request.
        BizErrNeedRetry = "BIZERR_NEED_RETRY",
        /// Too many bad requests: wait a minute.
        InvalidReqTooMuch = "INVALID_REQ_TOO_MUCH",
        /// Rate limited.
        FrequencyLimited = "FREQUENCY_LIMITED",
        /// Already paid.
        OrderPaid = "ORDERPAID",
        /// Closed.
        OrderClosed = "ORDERCLOSED",
        /// Reversed (payment code).
        OrderReversed = "ORDERREVERSED",
        /// No such order.
        OrderNotExist = "ORDERNOTEXIST",
        /// No such refund.
        RefundNotExist = "REFUNDNOTEXIST",
        /// The order is in a state that does not allow this.
        TradeStateError = "TRADE_STATE_ERROR",
        /// The out_trade_no was used with other parameters.
        OutTradeNoUsed = "OUT_TRADE_NO_USED",
        /// Not enough balance.
        NotEnough = "NOTENOUGH",
        /// Not authorised for this.
        NoAuth = "NOAUTH",
        /// Unknown appid.
        AppidNotExist = "APPID_NOT_EXIST",
        /// Unknown mch_id.
        MchidNotExist = "MCHID_NOT_EXIST",
        /// appid and mch_id do not belong together.
        AppidMchidNotMatch = "APPID_MCHID_NOT_MATCH",
        /// A required parameter is missing.
        LackParams = "LACK_PARAMS",
        /// A parameter is invalid.
        ParamError = "PARAM_ERROR",
        /// Invalid transaction id.
        InvalidTransactionId = "INVALID_TRANSACTIONID",
        /// The order is too old.
        TradeOverdue = "TRADE_OVERDUE",
        /// The payer's account is abnormal.
        UserAccountAbnormal = "USER_ACCOUNT_ABNORMAL",
        /// A generic business error.
        Error = "ERROR",
        /// Bad signature.
        SignError = "SIGNERROR",
        /// Bad XML.
        XmlFormatError = "XML_FORMAT_ERROR",
        /// Not a POST.
        RequirePostMethod = "REQUIRE_POST_METHOD",
        /// Empty body.
        PostDataEmpty = "POST_DATA_EMPTY",
        /// Not UTF-8.
        NotUtf8 = "NOT_UTF8",
        /// The payment code expired.
        AuthCodeExpire = "AUTHCODEEXPIRE",
        /// Bad payment code.
        AuthCodeError = "AUTH_CODE_ERROR",
        /// Invalid payment code.
        AuthCodeInvalid = "AUTH_CODE_INVALID",
        /// Card not supported (the protocol's spelling).
        NotSupportCard = "NOTSUPORTCARD",
        /// Payer mismatch.
        BuyerMismatch = "BUYER_MISMATCH",
        /// Risk control refused the trade.
        TradeError = "TRADE_ERROR",
        /// Invalid request.
        InvalidRequest = "INVALID_REQUEST",
    }
);

impl ErrCode {
    /// Whether the documented handling is "repeat the same request".
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::SystemError | Self::BizErrNeedRetry)
    }
}
