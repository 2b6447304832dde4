//! Task parameters: the operations' descriptions as graph values, so a
//! task crosses to a worker process as data and tokenizes by what it
//! does. Each named function declares its parameters with
//! `blockwork_graph::kernel_params!`, and so do the descriptions nested
//! in them (an aggregation, a partitioner, a rolling window): their
//! layouts are the handshake's fingerprint of the function. Expressions
//! (a tree of themselves) and literals implement
//! [`blockwork_graph::Param`] by hand, as tagged lists (`[tag,
//! fields...]`) and plain values; enumerations without fields
//! ([`crate::Agg`], [`crate::DType`]) travel by name.

use blockwork_graph::Value;

/// A tagged list: `[tag, fields...]`.
pub(crate) fn tagged(tag: &str, fields: impl IntoIterator<Item = Value>) -> Value {
    Value::List(std::iter::once(Value::Str(tag.into())).chain(fields).collect::<Vec<_>>().into())
}

/// The tag and fields of a tagged list.
pub(crate) fn untag(v: &Value) -> Option<(&str, &[Value])> {
    match v.as_list()? {
        [Value::Str(tag), rest @ ..] => Some((tag, rest)),
        _ => None,
    }
}

/// The name of `x` in a table of `(value, name)`.
pub(crate) fn name_of<T: Copy + PartialEq>(table: &[(T, &'static str)], x: T) -> &'static str {
    table.iter().find(|(o, _)| *o == x).map_or("?", |(_, n)| n)
}

/// The value named `name` in a table of `(value, name)`.
pub(crate) fn by_name<T: Copy>(table: &[(T, &'static str)], name: &str) -> Option<T> {
    table.iter().find(|(_, n)| *n == name).map(|(o, _)| *o)
}

/// Implements [`blockwork_graph::Param`] for a `Copy` type that travels
/// as its name: `$name` gives the name, `$parse` reads it back.
macro_rules! param_by_name {
    ($t:ty, $name:path, $parse:path) => {
        impl blockwork_graph::Param for $t {
            fn to_param(&self) -> blockwork_graph::Value {
                blockwork_graph::Value::Str($name(*self).into())
            }
            fn from_param(v: &blockwork_graph::Value) -> Option<Self> {
                match v {
                    blockwork_graph::Value::Str(s) => $parse(s),
                    _ => None,
                }
            }
        }
    };
}
pub(crate) use param_by_name;

/// Declares a fieldless enum whose variants have names (pandas' or
/// Python's), with `name()`, `parse()` and a [`blockwork_graph::Param`]
/// that travels as the name.
macro_rules! named_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $ty:ident { $($(#[$vmeta:meta])* $v:ident = $name:literal,)* }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        $vis enum $ty { $($(#[$vmeta])* $v,)* }

        impl $ty {
            /// Its name.
            pub fn name(self) -> &'static str {
                match self { $($ty::$v => $name,)* }
            }

            #[doc = concat!("The one of this name:", $(" `", $name, "`",)* ".")]
            pub fn parse(name: &str) -> Option<$ty> {
                match name {
                    $($name => Some($ty::$v),)*
                    _ => None,
                }
            }
        }

        $crate::param::param_by_name!($ty, $ty::name, $ty::parse);
    };
}
pub(crate) use named_enum;
