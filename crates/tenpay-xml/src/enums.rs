//! The wire enums every layer shares: trade type and state, refund status, currency.

crate::wire_enum!(
    /// `trade_type`.
    TradeType {
        /// JSAPI: official account web page or mini program.
        Jsapi = "JSAPI",
        /// NATIVE: QR code.
        Native = "NATIVE",
        /// APP.
        App = "APP",
        /// MWEB: H5 payment in a mobile browser.
        Mweb = "MWEB",
        /// MICROPAY: payment code.
        Micropay = "MICROPAY",
    }
);

crate::wire_enum!(
    /// `trade_state` (orderquery).
    TradeState {
        /// Paid.
        Success = "SUCCESS",
        /// A refund was made.
        Refund = "REFUND",
        /// Not paid.
        NotPay = "NOTPAY",
        /// Closed.
        Closed = "CLOSED",
        /// Reversed (payment code).
        Revoked = "REVOKED",
        /// The user is paying (payment code: entering the password).
        UserPaying = "USERPAYING",
        /// Payment failed.
        PayError = "PAYERROR",
    }
);

crate::wire_enum!(
    /// `refund_status`.
    RefundStatus {
        /// Refunded.
        Success = "SUCCESS",
        /// Refund closed.
        RefundClose = "REFUNDCLOSE",
        /// In progress.
        Processing = "PROCESSING",
        /// Abnormal (e.g. the card is frozen): handle on the merchant platform.
        Change = "CHANGE",
    }
);

crate::wire_enum!(
    /// `fee_type` and `cash_fee_type`: an ISO 4217 currency code (CNY by default).
    Currency {
        /// Chinese yuan.
        Cny = "CNY",
        /// Hong Kong dollar.
        Hkd = "HKD",
        /// US dollar.
        Usd = "USD",
        /// Euro.
        Eur = "EUR",
        /// Japanese yen.
        Jpy = "JPY",
        /// Pound sterling.
        Gbp = "GBP",
    }
);
