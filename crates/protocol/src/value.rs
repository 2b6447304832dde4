//! Values on the wire.
//!
//! ```text
//!  value := 0x00                              unit
//!         | 0x01 | 0x02                       false | true
//!         | 0x03 zigzag-varint                int
//!         | 0x04 f64-le                       float
//!         | 0x05 str                          string
//!         | 0x06 blob                         bytes (inline ≤ 1 KiB, else a buffer)
//!         | 0x07 count value*                 list
//!         | 0x08 str(type) bytes(meta) count  object: the codec's metadata inline,
//!                                             then `count` buffers from the frame
//! ```
//!
//! A bytes value from a buffer shares the frame's allocation; list
//! elements that are bytes or objects put their data in buffers of their
//! own, so a list of blocks is never encoded element by element.

use blockwork_graph::Value;

use crate::error::{EncodeError, ProtocolError};
use crate::wire::{Reader, Writer, MAX_DEPTH};
use blockwork_graph::codec;

const UNIT: u8 = 0;
const FALSE: u8 = 1;
const TRUE: u8 = 2;
const INT: u8 = 3;
const FLOAT: u8 = 4;
const STR: u8 = 5;
const BYTES: u8 = 6;
const LIST: u8 = 7;
const OBJECT: u8 = 8;

pub(crate) fn write_value(w: &mut Writer, v: &Value) -> Result<(), EncodeError> {
    write_at(w, v, 0)
}

fn write_at(w: &mut Writer, v: &Value, depth: u32) -> Result<(), EncodeError> {
    match v {
        Value::Unit => w.u8(UNIT),
        Value::Bool(b) => w.u8(if *b { TRUE } else { FALSE }),
        Value::Int(i) => {
            w.u8(INT);
            w.i64(*i);
        }
        Value::Float(x) => {
            w.u8(FLOAT);
            w.f64(*x);
        }
        Value::Str(s) => {
            w.u8(STR);
            w.str(s);
        }
        Value::Bytes(b) => {
            w.u8(BYTES);
            w.blob(b);
        }
        Value::List(xs) => {
            if depth >= MAX_DEPTH {
                return Err(EncodeError::TooDeep { what: "a list value".into(), limit: MAX_DEPTH });
            }
            w.u8(LIST);
            w.len(xs.len());
            for x in xs.iter() {
                write_at(w, x, depth + 1)?;
            }
        }
        Value::Object(o) => {
            let type_name = o.type_name();
            let c = codec(type_name).ok_or_else(|| EncodeError::NoCodec { type_name: type_name.into() })?;
            let (meta, buffers) =
                (c.encode)(o.as_ref()).ok_or_else(|| EncodeError::CodecRefused { type_name: type_name.into() })?;
            w.u8(OBJECT);
            w.str(type_name);
            w.bytes(&meta);
            w.len(buffers.len());
            w.buffers.extend(buffers);
        }
    }
    Ok(())
}

pub(crate) fn read_value(r: &mut Reader<'_>) -> Result<Value, ProtocolError> {
    Ok(match r.u8("value tag")? {
        UNIT => Value::Unit,
        FALSE => Value::Bool(false),
        TRUE => Value::Bool(true),
        INT => Value::Int(r.i64("int value")?),
        FLOAT => Value::Float(r.f64("float value")?),
        STR => Value::Str(r.arc_str("string value")?),
        BYTES => Value::Bytes(r.blob("bytes value")?),
        LIST => {
            r.enter("list value")?;
            let n = r.count("list value")?;
            let mut xs = Vec::with_capacity(n);
            for _ in 0..n {
                xs.push(read_value(r)?);
            }
            r.leave();
            Value::List(xs.into())
        }
        OBJECT => {
            let type_name = r.str("object type name")?;
            let meta = r.bytes("object metadata")?;
            let n = r.varint("object buffer count")?;
            let c = codec(type_name).ok_or_else(|| ProtocolError::UnknownCodec { type_name: type_name.into() })?;
            let mut buffers = Vec::new();
            for _ in 0..n {
                buffers.push(r.buffer()?);
            }
            (c.decode)(meta, buffers).map_err(|e| ProtocolError::Codec { type_name: type_name.into(), message: e.0 })?
        }
        x => return Err(ProtocolError::Invalid { field: "value tag", value: u64::from(x) }),
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use blockwork_graph::Data;

    use super::*;
    use crate::frame::Buffer;
    use blockwork_graph::{register_codec, CodecError};

    fn round_trip(v: &Value) -> Value {
        let mut w = Writer::default();
        write_value(&mut w, v).unwrap();
        let mut r = Reader::new(&w.meta, w.buffers);
        let back = read_value(&mut r).unwrap();
        r.finish("value").unwrap();
        back
    }

    #[test]
    fn every_builtin_variant_round_trips() {
        let big: Arc<[u8]> = vec![3u8; 5000].into();
        let v = Value::List(
            vec![
                Value::Unit,
                Value::Bool(true),
                Value::Bool(false),
                Value::Int(i64::MIN),
                Value::Float(-2.5),
                Value::Str("héllo".into()),
                Value::Bytes(b"small".to_vec().into()),
                Value::Bytes(big.clone()),
                Value::List(vec![].into()),
            ]
            .into(),
        );
        assert_eq!(round_trip(&v), v);
    }

    #[test]
    fn big_bytes_travel_as_buffers_without_copies() {
        let big: Arc<[u8]> = vec![3u8; 5000].into();
        let mut w = Writer::default();
        write_value(&mut w, &Value::Bytes(big.clone())).unwrap();
        assert!(w.meta.len() < 8);
        assert!(Arc::ptr_eq(&w.buffers[0], &big));
        let mut r = Reader::new(&w.meta, w.buffers);
        match read_value(&mut r).unwrap() {
            Value::Bytes(b) => assert!(Arc::ptr_eq(&b, &big)),
            v => panic!("{v:?}"),
        }
    }

    #[derive(Debug)]
    struct Block(Vec<f64>);
    impl Data for Block {
        fn nbytes(&self) -> usize {
            self.0.len() * 8
        }
        fn type_name(&self) -> &'static str {
            "test.block"
        }
    }
    fn enc(d: &dyn Data) -> Option<(Vec<u8>, Vec<Buffer>)> {
        let b = (d as &dyn std::any::Any).downcast_ref::<Block>()?;
        let bytes: Vec<u8> = b.0.iter().flat_map(|x| x.to_le_bytes()).collect();
        Some(((b.0.len() as u32).to_le_bytes().to_vec(), vec![bytes.into()]))
    }
    fn dec(meta: &[u8], bufs: Vec<Buffer>) -> Result<Value, CodecError> {
        let [b] = bufs.as_slice() else { return Err(CodecError::new("one buffer")) };
        if meta.len() != 4 || b.len() % 8 != 0 {
            return Err(CodecError::new("bad block"));
        }
        Ok(Value::object(Block(b.chunks(8).map(|c| f64::from_le_bytes(c.try_into().unwrap_or([0; 8]))).collect())))
    }

    #[test]
    fn objects_go_through_their_codec() {
        register_codec("test.block", enc, dec);
        let v = Value::List(vec![Value::object(Block(vec![1.0, 2.0])), Value::Int(1)].into());
        let back = round_trip(&v);
        let xs = back.as_list().unwrap();
        assert_eq!(xs[0].downcast_ref::<Block>().unwrap().0, vec![1.0, 2.0]);
        assert_eq!(xs[1], Value::Int(1));
    }

    #[derive(Debug)]
    struct Unregistered;
    impl Data for Unregistered {
        fn nbytes(&self) -> usize {
            0
        }
        fn type_name(&self) -> &'static str {
            "test.unregistered"
        }
    }

    #[test]
    fn an_object_without_codec_is_an_error_naming_its_type() {
        let mut w = Writer::default();
        let e = write_value(&mut w, &Value::object(Unregistered)).unwrap_err();
        assert_eq!(e, EncodeError::NoCodec { type_name: "test.unregistered".into() });
        assert!(e.to_string().contains("test.unregistered"));
        // And on the receiving side.
        let mut w = Writer::default();
        w.u8(OBJECT);
        w.str("test.unregistered");
        w.bytes(&[]);
        w.len(0);
        let e = read_value(&mut Reader::new(&w.meta, vec![])).unwrap_err();
        assert_eq!(e, ProtocolError::UnknownCodec { type_name: "test.unregistered".into() });
    }

    #[test]
    fn deep_nesting_is_refused_both_ways() {
        let mut v = Value::Unit;
        for _ in 0..=MAX_DEPTH {
            v = Value::List(vec![v].into());
        }
        assert!(matches!(write_value(&mut Writer::default(), &v), Err(EncodeError::TooDeep { .. })));
        let mut meta = [LIST, 1].repeat(100_000);
        meta.push(UNIT);
        let e = read_value(&mut Reader::new(&meta, vec![])).unwrap_err();
        assert_eq!(e, ProtocolError::TooDeep { field: "list value", limit: MAX_DEPTH });
    }
}
