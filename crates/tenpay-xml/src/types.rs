//! The value types every message shares.

use core::fmt;
use core::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, quote};

/// Parses a non-negative decimal integer strictly: ASCII digits only, no sign, no leading
/// zeros (but `0` itself), no spaces, no overflow.
pub(crate) fn parse_decimal<T: TryFrom<u64>>(s: &str) -> Result<T, String> {
    let bytes = s.as_bytes();
    if bytes.is_empty() {
        return Err("expected an integer, got an empty value".to_owned());
    }
    if !bytes.iter().all(u8::is_ascii_digit) {
        return Err(format!("expected decimal digits only, got {:?}", quote(s)));
    }
    if bytes.len() > 1 && bytes[0] == b'0' {
        return Err(format!("leading zero in {:?}", quote(s)));
    }
    let mut n: u64 = 0;
    for &d in bytes {
        n = n
            .checked_mul(10)
            .and_then(|n| n.checked_add(u64::from(d - b'0')))
            .ok_or_else(|| format!("{:?} is out of range", quote(s)))?;
    }
    T::try_from(n).map_err(|_| format!("{:?} is out of range", quote(s)))
}

/// An amount in fen (0.01 CNY, or the minor unit of `fee_type`): what every `*_fee` field holds.
///
/// Read strictly from its decimal form: `"1.0"`, `"-1"`, `"+1"`, `" 1"`, `"01"`, an empty value and
/// anything over `u64::MAX` are errors. Bills carry yuan strings instead; see [`Fen::from_yuan`].
///
/// ```
/// use tenpay_xml::Fen;
/// assert_eq!("888".parse::<Fen>()?.get(), 888);
/// assert!("8.88".parse::<Fen>().is_err());
/// assert_eq!(Fen::from_yuan("8.88")?, Fen::new(888));
/// assert_eq!(Fen::new(5).to_yuan(), "0.05");
/// # Ok::<(), tenpay_xml::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Fen(u64);

impl Fen {
    /// An amount of `fen` fen.
    #[must_use]
    pub const fn new(fen: u64) -> Self {
        Self(fen)
    }

    /// The amount in fen.
    #[must_use]
    pub const fn get(self) -> u64 {
        self.0
    }

    /// Reads a yuan amount as bills write it: `8.88`, `0.01`, `8.8`, `8` (at most two decimals,
    /// no sign).
    ///
    /// # Errors
    /// [`Error::InvalidValue`] for anything else.
    pub fn from_yuan(s: &str) -> Result<Self, Error> {
        let bad = |reason: &str| Error::InvalidValue {
            field: String::new(),
            reason: format!("{reason}: {:?}", quote(s)),
        };
        let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
        if s.ends_with('.') || frac.len() > 2 || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad("not a yuan amount with at most two decimals"));
        }
        let whole: u64 = parse_decimal(whole).map_err(|_| bad("not a yuan amount"))?;
        let mut frac_fen = 0u64;
        for (i, d) in frac.bytes().enumerate() {
            frac_fen += u64::from(d - b'0') * if i == 0 { 10 } else { 1 };
        }
        whole
            .checked_mul(100)
            .and_then(|f| f.checked_add(frac_fen))
            .map(Self)
            .ok_or_else(|| bad("out of range"))
    }

    /// The amount in yuan with two decimals, as bills write it.
    #[must_use]
    pub fn to_yuan(self) -> String {
        format!("{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

impl fmt::Display for Fen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl FromStr for Fen {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        parse_decimal(s)
            .map(Self)
            .map_err(|reason| Error::InvalidValue {
                field: String::new(),
                reason,
            })
    }
}

impl From<Fen> for u64 {
    fn from(f: Fen) -> Self {
        f.0
    }
}

/// A civil date and time in Beijing (UTC+8, no daylight saving), validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct Civil {
    year: u16,
    month: u8,
    day: u8,
    hour: u8,
    minute: u8,
    second: u8,
}

impl Civil {
    fn new(year: u16, month: u8, day: u8, hour: u8, minute: u8, second: u8) -> Option<Self> {
        let leap =
            (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
        let days = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return None,
        };
        (year >= 1970 && (1..=days).contains(&day) && hour < 24 && minute < 60 && second < 60)
            .then_some(Self {
                year,
                month,
                day,
                hour,
                minute,
                second,
            })
    }

    /// Reads fixed-width digits at the given offsets, with the separators between them.
    fn parse(s: &str, layout: &[(usize, usize)], seps: &[(usize, u8)]) -> Option<Self> {
        let b = s.as_bytes();
        let len = layout.last().map(|&(at, w)| at + w)?;
        if b.len() != len || !seps.iter().all(|&(at, c)| b[at] == c) {
            return None;
        }
        let mut parts = [0u16; 6];
        for (part, &(at, w)) in parts.iter_mut().zip(layout) {
            let digits = &b[at..at + w];
            if !digits.iter().all(u8::is_ascii_digit) {
                return None;
            }
            *part = digits.iter().fold(0, |n, &d| n * 10 + u16::from(d - b'0'));
        }
        let small = |x: u16| u8::try_from(x).ok();
        Self::new(
            parts[0],
            small(parts[1])?,
            small(parts[2])?,
            small(parts[3])?,
            small(parts[4])?,
            small(parts[5])?,
        )
    }

    /// Seconds since the Unix epoch of this Beijing time.
    fn unix(self) -> i64 {
        // Days from civil (Howard Hinnant's algorithm), for the proleptic Gregorian calendar.
        let (y, m, d) = (
            i64::from(self.year),
            i64::from(self.month),
            i64::from(self.day),
        );
        let y = if m <= 2 { y - 1 } else { y };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let mp = (m + 9) % 12;
        let doy = (153 * mp + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        let days = era * 146_097 + doe - 719_468;
        days * 86_400
            + i64::from(self.hour) * 3600
            + i64::from(self.minute) * 60
            + i64::from(self.second)
            - 8 * 3600
    }

    fn from_unix(secs: i64) -> Option<Self> {
        let local = secs.checked_add(8 * 3600)?;
        let days = local.div_euclid(86_400);
        let rem = local.rem_euclid(86_400);
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        let n = |x: i64| u8::try_from(x).ok();
        Self::new(
            u16::try_from(year).ok()?,
            n(month)?,
            n(day)?,
            n(rem / 3600)?,
            n(rem % 3600 / 60)?,
            n(rem % 60)?,
        )
    }
}

macro_rules! time_type {
    ($(#[$doc:meta])* $name:ident, $layout:expr, $seps:expr, $fmt:literal, $example:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(Civil);

        impl $name {
            /// The Beijing time at `secs` seconds after the Unix epoch (`None` before 1970 or
            /// past year 65535).
            #[must_use]
            pub fn from_unix(secs: i64) -> Option<Self> {
                Civil::from_unix(secs).map(Self)
            }

            /// Seconds since the Unix epoch.
            #[must_use]
            pub fn unix(self) -> i64 {
                self.0.unix()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let c = self.0;
                write!(f, $fmt, c.year, c.month, c.day, c.hour, c.minute, c.second)
            }
        }

        impl FromStr for $name {
            type Err = Error;

            fn from_str(s: &str) -> Result<Self, Error> {
                Civil::parse(s, &$layout, &$seps).map(Self).ok_or_else(|| Error::InvalidValue {
                    field: String::new(),
                    reason: format!(concat!("expected a valid time like ", $example, ", got {:?}"), quote(s)),
                })
            }
        }

        string_serde!($name);
    };
}

macro_rules! string_serde {
    ($name:ty) => {
        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

string_serde!(Fen);

time_type!(
    /// A `yyyyMMddHHmmss` Beijing time (`time_start`, `time_expire`, `time_end`).
    ///
    /// ```
    /// use tenpay_xml::BeijingTime;
    /// let t: BeijingTime = "20140903131540".parse()?;
    /// assert_eq!(t.unix(), 1_409_721_340);
    /// assert_eq!(BeijingTime::from_unix(1_409_721_340).unwrap().to_string(), "20140903131540");
    /// assert!("20140230000000".parse::<BeijingTime>().is_err());
    /// # Ok::<(), tenpay_xml::Error>(())
    /// ```
    BeijingTime,
    [(0, 4), (4, 2), (6, 2), (8, 2), (10, 2), (12, 2)],
    [],
    "{:04}{:02}{:02}{:02}{:02}{:02}",
    "20140903131540"
);

time_type!(
    /// A `yyyy-MM-dd HH:mm:ss` Beijing time (refund `success_time`, transfer and bill times).
    ///
    /// ```
    /// use tenpay_xml::{BeijingDateTime, BeijingTime};
    /// let t: BeijingDateTime = "2017-12-13 16:47:45".parse()?;
    /// assert_eq!(BeijingTime::from_unix(t.unix()).unwrap().to_string(), "20171213164745");
    /// # Ok::<(), tenpay_xml::Error>(())
    /// ```
    BeijingDateTime,
    [(0, 4), (5, 2), (8, 2), (11, 2), (14, 2), (17, 2)],
    [(4, b'-'), (7, b'-'), (10, b' '), (13, b':'), (16, b':')],
    "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
    "2017-12-13 16:47:45"
);

/// Defines a wire enum: known values as variants, anything else kept as `Unknown(String)`;
/// with `as_str`, `Display`, `From<&str>`, an infallible `FromStr`, and serde as a string.
///
/// ```
/// tenpay_xml::wire_enum!(
///     /// `bill_type`.
///     BillType {
///         /// Every order.
///         All = "ALL",
///         /// Paid orders.
///         Success = "SUCCESS",
///     }
/// );
/// assert_eq!(BillType::from("ALL"), BillType::All);
/// assert_eq!(BillType::from("NEW").as_str(), "NEW");
/// ```
#[macro_export]
macro_rules! wire_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $wire:literal,)* }) => {
        $(#[$doc])*
        ///
        /// Values this version does not know are kept as `Unknown` with their text, and are
        /// written back unchanged.
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vdoc])* $variant,)*
            /// A value not listed above, kept verbatim.
            Unknown(::std::string::String),
        }

        impl $name {
            /// The wire spelling.
            #[must_use]
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $wire,)*
                    Self::Unknown(s) => s,
                }
            }
        }

        impl ::core::fmt::Display for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::core::convert::From<&str> for $name {
            fn from(s: &str) -> Self {
                match s {
                    $($wire => Self::$variant,)*
                    other => Self::Unknown(other.to_owned()),
                }
            }
        }

        impl ::core::str::FromStr for $name {
            type Err = ::core::convert::Infallible;

            fn from_str(s: &str) -> ::core::result::Result<Self, Self::Err> {
                ::core::result::Result::Ok(Self::from(s))
            }
        }

        impl $crate::__serde::Serialize for $name {
            fn serialize<S: $crate::__serde::Serializer>(&self, s: S) -> ::core::result::Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> $crate::__serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::__serde::Deserializer<'de>>(d: D) -> ::core::result::Result<Self, D::Error> {
                let s = <::std::borrow::Cow<'de, str> as $crate::__serde::Deserialize<'de>>::deserialize(d)?;
                ::core::result::Result::Ok(Self::from(s.as_ref()))
            }
        }
    };
}

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

/// `#[serde(with = "tenpay_xml::string_form")]` for any `FromStr + Display` field (counts,
/// offsets), so it reads from a string even under `#[serde(flatten)]`.
pub mod string_form {
    use core::fmt::Display;
    use core::str::FromStr;

    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes the value's `Display` form.
    ///
    /// # Errors
    /// The serializer's.
    pub fn serialize<T: Display, S: Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(v)
    }

    /// Reads the value from a string with `FromStr`.
    ///
    /// # Errors
    /// When the string does not parse.
    pub fn deserialize<'de, T, D>(d: D) -> Result<T, D::Error>
    where
        T: FromStr,
        T::Err: Display,
        D: Deserializer<'de>,
    {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}
