//! serde: a typed struct into an [`XmlMap`].

use serde::ser::{self, Impossible, Serialize};

use crate::error::Error;
use crate::map::XmlMap;

/// Encodes a typed message (a struct or a string map) into a map, ready to sign and write.
///
/// `None` fields are omitted; integers, booleans (`true`/`false`) and unit enum variants are
/// written as strings; newtypes as their inner value.
///
/// ```
/// use serde::Serialize;
/// #[derive(Serialize)]
/// struct Query { out_trade_no: String, offset: Option<u32>, total_fee: u64 }
/// let m = tenpay_xml::to_map(&Query { out_trade_no: "T1".into(), offset: None, total_fee: 1 })?;
/// assert_eq!(m.to_xml(), "<xml><out_trade_no>T1</out_trade_no><total_fee>1</total_fee></xml>");
/// # Ok::<(), tenpay_xml::Error>(())
/// ```
///
/// # Errors
/// [`Error::InvalidValue`] for a value that is not a scalar (a sequence, a nested struct),
/// [`Error::InvalidName`], [`Error::UnrepresentableValue`] and [`Error::DuplicateField`].
pub fn to_map<T: Serialize + ?Sized>(value: &T) -> Result<XmlMap, Error> {
    let mut map = XmlMap::new();
    value
        .serialize(MapSer {
            map: &mut map,
            key: None,
        })
        .map_err(|e| e.0)?;
    Ok(map)
}

#[derive(Debug)]
struct SerError(Error);

impl core::fmt::Display for SerError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for SerError {}

impl ser::Error for SerError {
    fn custom<T: core::fmt::Display>(msg: T) -> Self {
        Self(Error::InvalidValue {
            field: String::new(),
            reason: msg.to_string(),
        })
    }
}

fn not_flat(what: &str) -> SerError {
    SerError(Error::InvalidValue {
        field: String::new(),
        reason: format!("{what} cannot be a flat message"),
    })
}

struct MapSer<'a> {
    map: &'a mut XmlMap,
    key: Option<String>,
}

impl MapSer<'_> {
    fn put(&mut self, key: &str, value: &(impl Serialize + ?Sized)) -> Result<(), SerError> {
        if self.map.contains(key) {
            return Err(SerError(Error::DuplicateField(key.to_owned())));
        }
        let v = value.serialize(ValueSer).map_err(|e| match e.0 {
            Error::InvalidValue { reason, .. } => SerError(Error::InvalidValue {
                field: key.to_owned(),
                reason,
            }),
            other => SerError(other),
        })?;
        if let Some(v) = v {
            self.map.insert(key, &v).map_err(SerError)?;
        }
        Ok(())
    }
}

macro_rules! reject {
    ($($method:ident($($arg:ty),*) -> $ret:ty),* $(,)?) => {$(
        fn $method(self, $(_: $arg),*) -> Result<$ret, SerError> { Err(not_flat(stringify!($method))) }
    )*};
}

impl<'a> ser::Serializer for MapSer<'a> {
    type Ok = ();
    type Error = SerError;
    type SerializeSeq = Impossible<(), SerError>;
    type SerializeTuple = Impossible<(), SerError>;
    type SerializeTupleStruct = Impossible<(), SerError>;
    type SerializeTupleVariant = Impossible<(), SerError>;
    type SerializeMap = Self;
    type SerializeStruct = Self;
    type SerializeStructVariant = Impossible<(), SerError>;

    fn serialize_map(self, _: Option<usize>) -> Result<Self, SerError> {
        Ok(self)
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self, SerError> {
        Ok(self)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        v: &T,
    ) -> Result<(), SerError> {
        v.serialize(self)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> Result<(), SerError> {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), SerError> {
        Err(not_flat("an enum with data"))
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
    ) -> Result<(), SerError> {
        Err(not_flat("an enum variant"))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, SerError> {
        Err(not_flat("an enum with data"))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, SerError> {
        Err(not_flat("an enum with data"))
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), SerError> {
        Ok(())
    }
    reject!(serialize_bool(bool) -> (), serialize_i8(i8) -> (), serialize_i16(i16) -> (), serialize_i32(i32) -> (),
        serialize_i64(i64) -> (), serialize_u8(u8) -> (), serialize_u16(u16) -> (), serialize_u32(u32) -> (),
        serialize_u64(u64) -> (), serialize_f32(f32) -> (), serialize_f64(f64) -> (), serialize_char(char) -> (),
        serialize_str(&str) -> (), serialize_bytes(&[u8]) -> (), serialize_none() -> (), serialize_unit() -> (),
        serialize_seq(Option<usize>) -> Self::SerializeSeq, serialize_tuple(usize) -> Self::SerializeTuple,
        serialize_tuple_struct(&'static str, usize) -> Self::SerializeTupleStruct);
}

impl ser::SerializeStruct for MapSer<'_> {
    type Ok = ();
    type Error = SerError;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), SerError> {
        self.put(key, value)
    }
    fn end(self) -> Result<(), SerError> {
        Ok(())
    }
}

impl ser::SerializeMap for MapSer<'_> {
    type Ok = ();
    type Error = SerError;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), SerError> {
        match key.serialize(ValueSer)? {
            Some(k) => {
                self.key = Some(k);
                Ok(())
            }
            None => Err(not_flat("a missing key")),
        }
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), SerError> {
        let key = self.key.take().unwrap_or_default();
        self.put(&key, value)
    }
    fn end(self) -> Result<(), SerError> {
        Ok(())
    }
}

/// A scalar to its string form; `None` for an absent value.
struct ValueSer;

macro_rules! display {
    ($($method:ident($ty:ty)),*) => {$(
        fn $method(self, v: $ty) -> Result<Option<String>, SerError> { Ok(Some(v.to_string())) }
    )*};
}

impl ser::Serializer for ValueSer {
    type Ok = Option<String>;
    type Error = SerError;
    type SerializeSeq = Impossible<Option<String>, SerError>;
    type SerializeTuple = Impossible<Option<String>, SerError>;
    type SerializeTupleStruct = Impossible<Option<String>, SerError>;
    type SerializeTupleVariant = Impossible<Option<String>, SerError>;
    type SerializeMap = Impossible<Option<String>, SerError>;
    type SerializeStruct = Impossible<Option<String>, SerError>;
    type SerializeStructVariant = Impossible<Option<String>, SerError>;

    display!(
        serialize_bool(bool),
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
        serialize_char(char)
    );

    fn serialize_str(self, v: &str) -> Result<Option<String>, SerError> {
        Ok(Some(v.to_owned()))
    }
    fn serialize_none(self) -> Result<Option<String>, SerError> {
        Ok(None)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> Result<Option<String>, SerError> {
        v.serialize(self)
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<Option<String>, SerError> {
        Ok(Some(variant.to_owned()))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        v: &T,
    ) -> Result<Option<String>, SerError> {
        v.serialize(self)
    }
    fn serialize_f32(self, _: f32) -> Result<Option<String>, SerError> {
        Err(not_flat("a float (amounts are integer fen)"))
    }
    fn serialize_f64(self, _: f64) -> Result<Option<String>, SerError> {
        Err(not_flat("a float (amounts are integer fen)"))
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<Option<String>, SerError> {
        Err(not_flat("bytes"))
    }
    fn serialize_unit(self) -> Result<Option<String>, SerError> {
        Ok(None)
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<Option<String>, SerError> {
        Ok(None)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<Option<String>, SerError> {
        Err(not_flat("an enum with data"))
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, SerError> {
        Err(not_flat("a sequence"))
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, SerError> {
        Err(not_flat("a tuple"))
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, SerError> {
        Err(not_flat("a tuple"))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, SerError> {
        Err(not_flat("an enum with data"))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, SerError> {
        Err(not_flat("a nested map"))
    }
    fn serialize_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStruct, SerError> {
        Err(not_flat("a nested struct"))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, SerError> {
        Err(not_flat("an enum with data"))
    }
}
