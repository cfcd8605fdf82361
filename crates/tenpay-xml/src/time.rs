//! Beijing times: `yyyyMMddHHmmss` and `yyyy-MM-dd HH:mm:ss`, validated.

use core::fmt;
use core::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, quote};
use crate::fen::string_serde;

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
