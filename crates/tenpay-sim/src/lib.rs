#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod builder;
mod clock;
mod error;
mod handle;
mod http;
mod ids;
mod model;
pub mod notify;
pub(crate) mod papay;
mod payouts;
mod protocol;
mod sharing;
mod state;
mod tls;
pub mod v3;

pub use builder::{Simulator, SimulatorBuilder};
pub use error::{Error, Refusal};
pub use handle::SimHandle;
pub use model::{
    Attempt, DEFAULT_BALANCE, DeliveryKind, DeliveryView, Fault, FaultKind, Limits,
    MerchantAccount, MerchantView, OrderView, PayOptions, RefundView, SubMerchant,
};
pub use notify::RETRY_SCHEDULE_SECS;
pub use papay::ContractView;
pub use payouts::{BankPaymentView, RedpackView, TransferView};
pub use tls::{ClientIdentity, TlsError, TlsMaterial};

/// The control API's operations and paths (documentation only; see [`SimHandle`] for the same
/// operations from Rust).
pub mod control {
    #![doc = include_str!("http/control.md")]
}
