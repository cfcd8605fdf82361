//! Notifications: what WeChat Pay sends to the merchant ([`PayPayload`], [`RefundPayload`]) and
//! how it delivers them ([`deliver_once`]; the simulator retries on WeChat's schedule,
//! [`RETRY_SCHEDULE_SECS`], and judges each reply as WeChat does).

mod delivery;
mod payload;

pub(crate) use delivery::{DEFAULT_TIMEOUT, Outbox, Target, Wire};
pub use delivery::{RETRY_SCHEDULE_SECS, deliver_once};
pub use payload::{DEFAULT_OPENID, PayPayload, RefundPayload};
