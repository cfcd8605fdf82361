//! Wire enums: known values as variants, anything else kept verbatim.

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
