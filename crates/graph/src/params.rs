//! Typed parameters of named functions.
//!
//! A named function gets its parameters as one [`Value`]. Declared with
//! [`kernel_params!`](crate::kernel_params), they are a struct instead of
//! a positional list: the struct encodes to a list of its fields in order
//! (so task tokens are those of the same list written by hand) and decodes
//! with an error that names the struct, the field and what was found (an
//! internal error: parameters are written by blockwork's own graph
//! builders, so one it cannot read is a bug, or a peer built differently). The
//! struct's [`LAYOUT`](KernelParams::LAYOUT) — its name and its fields'
//! names and types — is given to the function with
//! [`NamedFn::params`](crate::NamedFn::params); the handshake of a cluster
//! compares the layouts of every function both sides registered, so a
//! client and a worker built from different sources are refused before
//! one misreads the other's parameters.
//!
//! ```
//! use blockwork_graph::{kernel_params, KernelParams, Value};
//!
//! kernel_params! {
//!     /// How to scale a block.
//!     pub struct Scale {
//!         /// The factor.
//!         pub k: f64,
//!         /// Axes to scale along.
//!         pub axes: Vec<usize>,
//!     }
//! }
//! let p = Scale { k: 2.0, axes: vec![0, 1] };
//! let v = p.to_value();
//! assert_eq!(Scale::from_value(&v).unwrap().axes, [0, 1]);
//! assert_eq!(Scale::LAYOUT, "Scale { k: f64, axes: Vec<usize> }");
//! let err = Scale::from_value(&Value::List(vec![Value::Str("x".into()), Value::Unit].into())).unwrap_err();
//! assert_eq!(err.to_string(), "parameters of Scale: k is not a f64 (found str)");
//! ```
//!
//! One function with several forms takes an enum, each variant with named
//! fields; its value is the variant's name followed by the fields:
//!
//! ```
//! use blockwork_graph::{kernel_params, KernelParams, Value};
//!
//! kernel_params! {
//!     /// Count a mask's trues, or select where it is true.
//!     pub enum Mask {
//!         /// The count.
//!         Count {},
//!         /// The selection, of elements of this width.
//!         Select { width: usize },
//!     }
//! }
//! let v = Mask::Select { width: 8 }.to_value();
//! assert_eq!(Mask::from_value(&v).unwrap(), Mask::Select { width: 8 });
//! assert_eq!(Mask::from_value(&Mask::Count {}.to_value()).unwrap(), Mask::Count {});
//! assert_eq!(Mask::LAYOUT, "Mask { Count {  } | Select { width: usize } }");
//! let err = Mask::from_value(&Value::List(vec![Value::Str("Sum".into())].into())).unwrap_err();
//! assert_eq!(err.to_string(), "parameters of Mask: no variant \"Sum\" (one of Count, Select)");
//! let err = Mask::from_value(&Value::List(vec![Value::Str("Select".into())].into())).unwrap_err();
//! assert_eq!(err.to_string(), "parameters of Mask::Select: 0 values where 1 fields are declared");
//! ```
//!
//! Declared types nest: a field may be another declared struct or enum
//! (or a `Vec` or `Option` of one), and its layout joins the function's
//! fingerprint ([`Layout::describe`]):
//!
//! ```
//! use blockwork_graph::{kernel_params, KernelParams, Layout};
//!
//! kernel_params! {
//!     /// One axis of a window.
//!     pub enum Axis {
//!         /// A range.
//!         Range { start: i64, stop: i64 },
//!         /// One index (the axis is dropped).
//!         Index { at: i64 },
//!     }
//! }
//! kernel_params! {
//!     /// A window of a block.
//!     pub struct Window { axes: Vec<Axis> }
//! }
//! let w = Window { axes: vec![Axis::Range { start: 0, stop: 4 }, Axis::Index { at: 2 }] };
//! assert_eq!(Window::from_value(&w.to_value()).unwrap(), w);
//! let layout = Layout { text: Window::LAYOUT, nested: Window::NESTED };
//! assert_eq!(
//!     layout.describe(),
//!     "Window { axes: Vec<Axis> }; Axis { Range { start: i64, stop: i64 } | Index { at: i64 } }"
//! );
//! ```

use std::sync::Arc;

use crate::value::Value;

/// The layout of a declared parameter type: its own (name, fields and
/// their types' names) and those of the declared types among its fields,
/// so a change to a nested type changes the fingerprint too.
#[derive(Clone, Copy, Debug)]
pub struct Layout {
    /// `Name { field: Type, … }` (an enum: its variants, `|`-separated).
    pub text: &'static str,
    /// The layouts of its fields' types, where declared.
    pub nested: &'static [Option<&'static Layout>],
}

impl Layout {
    /// A layout without nested declared types (a plain value's type name).
    pub const fn plain(text: &'static str) -> Layout {
        Layout { text, nested: &[] }
    }

    /// The text of this layout and every nested one, each once, in the
    /// order first met: what the handshake compares.
    pub fn describe(&self) -> String {
        let mut seen: Vec<&'static str> = Vec::new();
        self.collect(&mut seen);
        seen.join("; ")
    }

    fn collect(&self, seen: &mut Vec<&'static str>) {
        if seen.contains(&self.text) {
            return;
        }
        seen.push(self.text);
        self.nested.iter().flatten().for_each(|l| l.collect(seen));
    }
}

/// A type a parameter field may have: it becomes a [`Value`] and back.
pub trait Param: Sized {
    /// Its layout when it is a declared parameter type (structs and enums
    /// of [`kernel_params!`](crate::kernel_params), and containers of
    /// them); `None` for plain values. A type that contains itself (an
    /// expression tree) implements `Param` by hand and is named only.
    const DECLARED: Option<&'static Layout> = None;
    /// As a value.
    fn to_param(&self) -> Value;
    /// From a value; `None` if it is not one of these.
    fn from_param(v: &Value) -> Option<Self>;
}

/// A struct of parameters (declare it with
/// [`kernel_params!`](crate::kernel_params)).
pub trait KernelParams: Sized {
    /// The struct's name and its fields' names and types, in order.
    const LAYOUT: &'static str;
    /// The layouts of its fields' types, where they are declared ones.
    const NESTED: &'static [Option<&'static Layout>];
    /// The parameters as a value: a list of the fields in order.
    fn to_value(&self) -> Value;
    /// The parameters from a value, or an error naming the field at fault.
    fn from_value(v: &Value) -> Result<Self, crate::TaskError>;
}

impl Param for i64 {
    fn to_param(&self) -> Value {
        Value::Int(*self)
    }
    fn from_param(v: &Value) -> Option<Self> {
        match v {
            Value::Int(x) => Some(*x),
            _ => None,
        }
    }
}

macro_rules! unsigned_param {
    ($($t:ty),*) => {$(
        impl Param for $t {
            fn to_param(&self) -> Value {
                // Counts beyond i64 (`usize::MAX` for "all") mean as much as the
                // largest there is.
                Value::Int(i64::try_from(*self).unwrap_or(i64::MAX))
            }
            fn from_param(v: &Value) -> Option<Self> {
                match v {
                    Value::Int(x) => <$t>::try_from(*x).ok(),
                    _ => None,
                }
            }
        }
    )*};
}
unsigned_param!(usize, u64, u32, u8);

impl Param for f64 {
    fn to_param(&self) -> Value {
        Value::Float(*self)
    }
    fn from_param(v: &Value) -> Option<Self> {
        match v {
            Value::Float(x) => Some(*x),
            Value::Int(x) => Some(*x as f64),
            _ => None,
        }
    }
}

impl Param for bool {
    fn to_param(&self) -> Value {
        Value::Bool(*self)
    }
    fn from_param(v: &Value) -> Option<Self> {
        match v {
            Value::Bool(x) => Some(*x),
            _ => None,
        }
    }
}

impl Param for String {
    fn to_param(&self) -> Value {
        Value::Str(self.as_str().into())
    }
    fn from_param(v: &Value) -> Option<Self> {
        match v {
            Value::Str(s) => Some(s.to_string()),
            _ => None,
        }
    }
}

impl Param for Arc<str> {
    fn to_param(&self) -> Value {
        Value::Str(self.clone())
    }
    fn from_param(v: &Value) -> Option<Self> {
        match v {
            Value::Str(s) => Some(s.clone()),
            _ => None,
        }
    }
}

/// Any value, unchecked (data whose meaning the function decides, such
/// as a scalar of the block's element type).
impl Param for Value {
    fn to_param(&self) -> Value {
        self.clone()
    }
    fn from_param(v: &Value) -> Option<Self> {
        Some(v.clone())
    }
}

impl<T: Param> Param for Vec<T> {
    const DECLARED: Option<&'static Layout> = T::DECLARED;
    fn to_param(&self) -> Value {
        Value::List(self.iter().map(Param::to_param).collect())
    }
    fn from_param(v: &Value) -> Option<Self> {
        match v {
            Value::List(xs) => xs.iter().map(T::from_param).collect(),
            _ => None,
        }
    }
}

/// `None` is [`Value::Unit`].
impl<T: Param> Param for Option<T> {
    const DECLARED: Option<&'static Layout> = T::DECLARED;
    fn to_param(&self) -> Value {
        self.as_ref().map_or(Value::Unit, Param::to_param)
    }
    fn from_param(v: &Value) -> Option<Self> {
        match v {
            Value::Unit => Some(None),
            v => T::from_param(v).map(Some),
        }
    }
}

/// The fields of a parameter list, checked for their number.
#[doc(hidden)]
pub fn fields<'a>(v: &'a Value, name: &str, n: usize) -> Result<&'a [Value], crate::TaskError> {
    match v {
        Value::List(xs) => counted(xs, name, n),
        other => Err(crate::TaskError::internal(format!(
            "parameters of {name}: a list expected, found {}",
            other.type_name()
        ))),
    }
}

/// The variant's name and its fields, of an enum's parameters.
#[doc(hidden)]
pub fn variant<'a>(v: &'a Value, name: &str) -> Result<(&'a str, &'a [Value]), crate::TaskError> {
    match v {
        Value::List(xs) => match &xs[..] {
            [Value::Str(tag), rest @ ..] => Ok((tag, rest)),
            _ => Err(crate::TaskError::internal(format!(
                "parameters of {name}: a list led by a variant's name expected"
            ))),
        },
        other => Err(crate::TaskError::internal(format!(
            "parameters of {name}: a list expected, found {}",
            other.type_name()
        ))),
    }
}

/// `xs`, checked to hold `n` fields.
#[doc(hidden)]
pub fn counted<'a>(xs: &'a [Value], name: &str, n: usize) -> Result<&'a [Value], crate::TaskError> {
    if xs.len() == n {
        Ok(xs)
    } else {
        Err(crate::TaskError::internal(format!(
            "parameters of {name}: {} values where {n} fields are declared",
            xs.len()
        )))
    }
}

/// A variant's name as a value, made once and shared by every value of
/// the variant (one reference count, not one allocation, per task).
#[doc(hidden)]
pub fn variant_name(name: &'static str, cell: &'static std::sync::OnceLock<Arc<str>>) -> Value {
    Value::Str(cell.get_or_init(|| Arc::from(name)).clone())
}

/// An error for a variant `found` that `name` does not have.
#[doc(hidden)]
pub fn no_variant(name: &str, found: &str, variants: &[&str]) -> crate::TaskError {
    crate::TaskError::internal(format!("parameters of {name}: no variant {found:?} (one of {})", variants.join(", ")))
}

/// One field, or an error naming it.
#[doc(hidden)]
pub fn field<T: Param>(v: &Value, name: &str, field: &str, ty: &str) -> Result<T, crate::TaskError> {
    T::from_param(v).ok_or_else(|| {
        crate::TaskError::internal(format!("parameters of {name}: {field} is not a {ty} (found {})", v.type_name()))
    })
}

/// Declares a struct (or an enum whose variants have named fields: one
/// function with several forms) of named-function parameters and
/// implements [`KernelParams`] for it (see the [module](crate::params)
/// docs). An enum's value is its variant's name followed by its fields.
#[macro_export]
macro_rules! kernel_params {
    ($(#[$meta:meta])* $vis:vis struct $name:ident { $($(#[$fmeta:meta])* $fvis:vis $field:ident : $ty:ty),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq)]
        $vis struct $name { $($(#[$fmeta])* $fvis $field: $ty),* }

        impl $crate::KernelParams for $name {
            const LAYOUT: &'static str =
                concat!(stringify!($name), " { ", $crate::kernel_params!(@layout $($field: $ty),*), " }");
            const NESTED: &'static [Option<&'static $crate::params::Layout>] =
                &[$(<$ty as $crate::Param>::DECLARED),*];

            fn to_value(&self) -> $crate::Value {
                $crate::Value::List(::std::sync::Arc::from(vec![$($crate::Param::to_param(&self.$field)),*]))
            }

            fn from_value(v: &$crate::Value) -> ::std::result::Result<Self, $crate::TaskError> {
                const N: usize = <[&str]>::len(&[$(stringify!($field)),*]);
                let xs = $crate::params::fields(v, stringify!($name), N)?;
                #[allow(unused_mut, unused_variables)]
                let mut it = xs.iter();
                Ok($name {
                    $($field: $crate::params::field(
                        it.next().expect("checked length"),
                        stringify!($name),
                        stringify!($field),
                        stringify!($ty),
                    )?),*
                })
            }
        }
        $crate::kernel_params!(@param $name);
    };
    ($(#[$meta:meta])* $vis:vis enum $name:ident {
        $($(#[$vmeta:meta])* $variant:ident { $($(#[$fmeta:meta])* $field:ident : $ty:ty),* $(,)? }),* $(,)?
    }) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq)]
        $vis enum $name { $($(#[$vmeta])* $variant { $($(#[$fmeta])* $field: $ty),* }),* }

        impl $crate::KernelParams for $name {
            const LAYOUT: &'static str =
                concat!(stringify!($name), " { ", $crate::kernel_params!(@variants $($variant { $($field: $ty),* }),*), " }");
            const NESTED: &'static [Option<&'static $crate::params::Layout>] =
                &[$($(<$ty as $crate::Param>::DECLARED,)*)*];

            fn to_value(&self) -> $crate::Value {
                match self {
                    $($name::$variant { $($field),* } => $crate::Value::List(::std::sync::Arc::from(vec![
                        $crate::params::variant_name(stringify!($variant), {
                            static NAME: ::std::sync::OnceLock<::std::sync::Arc<str>> = ::std::sync::OnceLock::new();
                            &NAME
                        }),
                        $($crate::Param::to_param($field)),*
                    ]))),*
                }
            }

            fn from_value(v: &$crate::Value) -> ::std::result::Result<Self, $crate::TaskError> {
                let (tag, xs) = $crate::params::variant(v, stringify!($name))?;
                $(if tag == stringify!($variant) {
                    const N: usize = <[&str]>::len(&[$(stringify!($field)),*]);
                    let what = concat!(stringify!($name), "::", stringify!($variant));
                    let xs = $crate::params::counted(xs, what, N)?;
                    #[allow(unused_mut, unused_variables)]
                    let mut it = xs.iter();
                    return Ok($name::$variant {
                        $($field: $crate::params::field(it.next().expect("checked length"), what, stringify!($field), stringify!($ty))?),*
                    });
                })*
                Err($crate::params::no_variant(stringify!($name), tag, &[$(stringify!($variant)),*]))
            }
        }
        $crate::kernel_params!(@param $name);
    };
    (@param $name:ident) => {
        /// A declared parameter type nests in another's fields.
        impl $crate::Param for $name {
            const DECLARED: Option<&'static $crate::params::Layout> = Some(&$crate::params::Layout {
                text: <$name as $crate::KernelParams>::LAYOUT,
                nested: <$name as $crate::KernelParams>::NESTED,
            });
            fn to_param(&self) -> $crate::Value {
                $crate::KernelParams::to_value(self)
            }
            fn from_param(v: &$crate::Value) -> Option<Self> {
                <$name as $crate::KernelParams>::from_value(v).ok()
            }
        }
    };
    (@variants $variant:ident { $($field:ident : $ty:ty),* }) => {
        concat!(stringify!($variant), " { ", $crate::kernel_params!(@layout $($field: $ty),*), " }")
    };
    (@variants $variant:ident { $($field:ident : $ty:ty),* }, $($rest:tt)+) => {
        concat!(stringify!($variant), " { ", $crate::kernel_params!(@layout $($field: $ty),*), " } | ", $crate::kernel_params!(@variants $($rest)+))
    };
    (@layout) => { "" };
    (@layout $field:ident : $ty:ty) => { concat!(stringify!($field), ": ", stringify!($ty)) };
    (@layout $field:ident : $ty:ty, $($rest:tt)+) => {
        concat!(stringify!($field), ": ", stringify!($ty), ", ", $crate::kernel_params!(@layout $($rest)+))
    };
}

kernel_params! {
    /// The parameters of a function that takes none (its value is the
    /// empty list): declared so its layout joins the fingerprint too.
    pub struct NoParams {}
}

/// Declares a table of codes (a parameter written as its place in the
/// table) and the table's order as a [`Layout`]: give the layout to the
/// type's [`Param::DECLARED`], and reordering or extending the table
/// changes the fingerprint of every function whose parameters hold it.
///
/// ```
/// use blockwork_graph::{code_table, Layout};
///
/// #[derive(Clone, Copy, Debug, PartialEq)]
/// pub enum Op { Add, Sub }
/// code_table! {
///     /// The ops in code order.
///     pub const OPS: [Op] = [Add, Sub]; layout OP_CODES;
/// }
/// assert_eq!(OPS, [Op::Add, Op::Sub]);
/// assert_eq!(OP_CODES.text, "Op codes: Add Sub");
///
/// code_table! {
///     /// Units, in code order.
///     #[derive(Clone, Copy, Debug, PartialEq)]
///     pub enum Unit { Metre, Second }
///     pub table UNITS, layout UNIT_CODES;
/// }
/// assert_eq!(UNITS, [Unit::Metre, Unit::Second]);
/// assert_eq!(UNIT_CODES.text, "Unit codes: Metre Second");
/// ```
///
/// Where the codes are an enum's variants in order, one invocation
/// declares the enum too (`… enum Op { Add, Sub } table OPS, layout
/// OP_CODES;`), so the variants are written once. Ending with `, param`
/// also makes the type a [`Param`] written as its place in the table,
/// its layout declared:
///
/// ```
/// use blockwork_graph::{code_table, Param, Value};
///
/// code_table! {
///     /// Sides, in code order.
///     #[derive(Clone, Copy, Debug, PartialEq)]
///     pub enum Side { Left, Right }
///     pub table SIDES, layout SIDE_CODES, param;
/// }
/// assert_eq!(Side::Right.to_param(), Value::Int(1));
/// assert_eq!(Side::from_param(&Value::Int(0)), Some(Side::Left));
/// assert_eq!(Side::from_param(&Value::Int(2)), None);
/// assert_eq!(Side::DECLARED.map(|l| l.text), Some("Side codes: Left Right"));
/// ```
#[macro_export]
macro_rules! code_table {
    (
        $(#[$meta:meta])* $vis:vis enum $ty:ident { $($(#[$vmeta:meta])* $v:ident),* $(,)? }
        $tvis:vis table $table:ident, layout $layout:ident $(, $param:ident)?;
    ) => {
        $(#[$meta])*
        $vis enum $ty { $($(#[$vmeta])* $v),* }
        $crate::code_table! {
            #[doc = concat!("Every [`", stringify!($ty), "`], in code order.")]
            $tvis const $table: [$ty] = [$($v),*]; layout $layout $(, $param)?;
        }
    };
    (
        $(#[$meta:meta])* $vis:vis const $table:ident: [$ty:ident] = [$($v:ident),* $(,)?];
        layout $layout:ident $(, $param:ident)?;
    ) => {
        $(#[$meta])*
        $vis const $table: [$ty; <[&str]>::len(&[$(stringify!($v)),*])] = [$($ty::$v),*];
        /// The table's order, as the handshake's fingerprint sees it.
        $vis const $layout: $crate::Layout =
            $crate::Layout { text: concat!(stringify!($ty), " codes:", $(" ", stringify!($v)),*), nested: &[] };
        $($crate::code_table!(@$param $ty, $table, $layout);)?
    };
    // `param`: the type is a parameter written as its place in the table.
    (@param $ty:ident, $table:ident, $layout:ident) => {
        impl $crate::Param for $ty {
            const DECLARED: Option<&'static $crate::Layout> = Some(&$layout);
            fn to_param(&self) -> $crate::Value {
                $crate::Value::Int($table.iter().position(|x| x == self).map_or(0, |i| i as i64))
            }
            fn from_param(v: &$crate::Value) -> Option<Self> {
                $table.get(usize::try_from(<i64 as $crate::Param>::from_param(v)?).ok()?).copied()
            }
        }
    };
}
