//! How array blocks and reduction partials cross process boundaries.
//!
//! [`register_codecs`] registers, with the graph crate's codec
//! registry, a codec for every [`Block`] element type and for the
//! partials that reductions pass between tasks. A dense block travels as
//! its shape in the metadata and its elements, little-endian in C order,
//! as one raw buffer; a constant block as its shape and value, with no
//! buffer at all. Every process of a cluster that runs array tasks calls
//! it at start-up (the kernels themselves are registered named functions).

use std::sync::Once;

use blockwork_graph::{register_codec, Buffer, CodecError};
use blockwork_graph::{Data, Value};
use ndarray::{ArrayD, IxDyn};

use crate::block::Block;
use crate::dtype::{with_dtype, DType, Element};
use crate::ops::groupby::{Acc, Count, GroupPartial};
use crate::ops::reduce::{ArgBest, Moments};

fn put_shape(meta: &mut Vec<u8>, shape: &[usize]) {
    meta.extend_from_slice(&(shape.len() as u32).to_le_bytes());
    for &s in shape {
        meta.extend_from_slice(&(s as u64).to_le_bytes());
    }
}

fn get_shape(meta: &[u8]) -> Result<(Vec<usize>, &[u8]), CodecError> {
    let bad = || CodecError::new("truncated array block metadata");
    let nd = u32::from_le_bytes(meta.get(..4).ok_or_else(bad)?.try_into().map_err(|_| bad())?) as usize;
    if nd > 64 {
        return Err(CodecError::new(format!("a block of {nd} dimensions")));
    }
    let mut shape = Vec::with_capacity(nd);
    let mut rest = &meta[4..];
    for _ in 0..nd {
        let v = u64::from_le_bytes(rest.get(..8).ok_or_else(bad)?.try_into().map_err(|_| bad())?);
        shape.push(usize::try_from(v).map_err(|_| bad())?);
        rest = &rest[8..];
    }
    Ok((shape, rest))
}

fn elements<T: Element>(shape: &[usize], buf: &[u8]) -> Result<ArrayD<T>, CodecError> {
    let size = T::DTYPE.itemsize();
    let n =
        shape.iter().try_fold(1usize, |a, &s| a.checked_mul(s)).ok_or_else(|| CodecError::new("block too large"))?;
    if buf.len() != n * size {
        return Err(CodecError::new(format!("a block of shape {shape:?} needs {} bytes, got {}", n * size, buf.len())));
    }
    let data: Vec<T> = buf.chunks_exact(size).map(T::from_le).collect();
    ArrayD::from_shape_vec(IxDyn(shape), data).map_err(CodecError::new)
}

fn le_bytes<T: Element>(a: &ArrayD<T>) -> Buffer {
    let a = a.as_standard_layout();
    if let Some(bytes) = a.as_slice().and_then(T::le_bytes) {
        return Buffer::from(bytes.to_vec());
    }
    let mut out = Vec::with_capacity(a.len() * T::DTYPE.itemsize());
    for x in a.iter() {
        x.tokenize_into(&mut out);
    }
    Buffer::from(out)
}

fn encode_block<T: Element>(d: &dyn Data) -> Option<(Vec<u8>, Vec<Buffer>)> {
    let b = (d as &dyn std::any::Any).downcast_ref::<Block<T>>()?;
    let mut meta = Vec::new();
    match b {
        Block::Dense(a) => {
            meta.push(0);
            put_shape(&mut meta, a.shape());
            Some((meta, vec![le_bytes(a)]))
        }
        Block::Const { value, shape } => {
            meta.push(1);
            put_shape(&mut meta, shape);
            value.tokenize_into(&mut meta);
            Some((meta, vec![]))
        }
    }
}

fn decode_block<T: Element>(meta: &[u8], buffers: Vec<Buffer>) -> Result<Value, CodecError> {
    let (kind, rest) = meta.split_first().ok_or_else(|| CodecError::new("empty array block metadata"))?;
    let (shape, rest) = get_shape(rest)?;
    match (kind, buffers.as_slice()) {
        (0, [buf]) => Ok(Block::Dense(elements::<T>(&shape, buf)?).into_value()),
        (1, []) if rest.len() >= T::DTYPE.itemsize() => {
            Ok(Block::Const { value: T::from_le(rest), shape }.into_value())
        }
        _ => Err(CodecError::new(format!("malformed {} block", T::DTYPE))),
    }
}

fn encode_moments(d: &dyn Data) -> Option<(Vec<u8>, Vec<Buffer>)> {
    let m = (d as &dyn std::any::Any).downcast_ref::<Moments>()?;
    let (n, mean, m2) = m.parts();
    let mut meta = Vec::new();
    put_shape(&mut meta, n.shape());
    Some((meta, vec![le_bytes(n), le_bytes(mean), le_bytes(m2)]))
}

fn decode_moments(meta: &[u8], buffers: Vec<Buffer>) -> Result<Value, CodecError> {
    let (shape, _) = get_shape(meta)?;
    match buffers.as_slice() {
        [n, mean, m2] => {
            Ok(Value::object(Moments::new(elements(&shape, n)?, elements(&shape, mean)?, elements(&shape, m2)?)))
        }
        _ => Err(CodecError::new("moments are three buffers")),
    }
}

fn encode_arg(d: &dyn Data) -> Option<(Vec<u8>, Vec<Buffer>)> {
    let a = (d as &dyn std::any::Any).downcast_ref::<ArgBest>()?;
    let (value, index) = a.parts();
    let mut meta = Vec::new();
    put_shape(&mut meta, value.shape());
    Some((meta, vec![le_bytes(value), le_bytes(index)]))
}

fn decode_arg(meta: &[u8], buffers: Vec<Buffer>) -> Result<Value, CodecError> {
    let (shape, _) = get_shape(meta)?;
    match buffers.as_slice() {
        [v, i] => Ok(Value::object(ArgBest::new(elements(&shape, v)?, elements(&shape, i)?))),
        _ => Err(CodecError::new("arg partials are two buffers")),
    }
}

/// Group partials: the shape of every accumulator, then per group its id
/// and kind (0 sum, 1 moments, 2 extreme); buffers follow group by group.
fn encode_groups(d: &dyn Data) -> Option<(Vec<u8>, Vec<Buffer>)> {
    let p = (d as &dyn std::any::Any).downcast_ref::<GroupPartial>()?;
    let shape = match p.accs.first() {
        Some(Acc::Sum { sum: x, .. } | Acc::Extreme(x)) => x.shape().to_vec(),
        Some(Acc::Moments(m)) => m.parts().0.shape().to_vec(),
        None => vec![],
    };
    let mut meta = Vec::new();
    put_shape(&mut meta, &shape);
    let mut bufs = Vec::new();
    for (g, acc) in p.groups.iter().zip(&p.accs) {
        meta.extend_from_slice(&g.to_le_bytes());
        match acc {
            Acc::Sum { n: Count::Cells(n), sum } => {
                meta.push(0);
                bufs.extend([le_bytes(n), le_bytes(sum)]);
            }
            Acc::Sum { n: Count::Rows(k), sum } => {
                meta.push(3);
                meta.extend_from_slice(&k.to_le_bytes());
                bufs.push(le_bytes(sum));
            }
            Acc::Moments(m) => {
                meta.push(1);
                let (n, mean, m2) = m.parts();
                bufs.extend([le_bytes(n), le_bytes(mean), le_bytes(m2)]);
            }
            Acc::Extreme(x) => {
                meta.push(2);
                bufs.push(le_bytes(x));
            }
        }
    }
    Some((meta, bufs))
}

fn decode_groups(meta: &[u8], buffers: Vec<Buffer>) -> Result<Value, CodecError> {
    let (shape, mut rest) = get_shape(meta)?;
    let mut bufs = buffers.iter();
    let mut next = || bufs.next().ok_or_else(|| CodecError::new("group partials: too few buffers"));
    let (mut groups, mut accs) = (Vec::new(), Vec::new());
    while !rest.is_empty() {
        let (head, mut tail) = rest.split_at_checked(5).ok_or_else(|| CodecError::new("truncated group partials"))?;
        groups.push(u32::from_le_bytes([head[0], head[1], head[2], head[3]]));
        accs.push(match head[4] {
            0 => Acc::Sum { n: Count::Cells(elements(&shape, next()?)?), sum: elements(&shape, next()?)? },
            3 => {
                let (k, after) = tail.split_at_checked(8).ok_or_else(|| CodecError::new("truncated group partials"))?;
                tail = after;
                Acc::Sum {
                    n: Count::Rows(f64::from_le_bytes(k.try_into().map_err(|_| CodecError::new("bad count"))?)),
                    sum: elements(&shape, next()?)?,
                }
            }
            1 => Acc::Moments(Moments::new(
                elements(&shape, next()?)?,
                elements(&shape, next()?)?,
                elements(&shape, next()?)?,
            )),
            2 => Acc::Extreme(elements(&shape, next()?)?),
            k => return Err(CodecError::new(format!("group partials: unknown accumulator {k}"))),
        });
        rest = tail;
    }
    if next().is_ok() {
        return Err(CodecError::new("group partials: too many buffers"));
    }
    Ok(Value::object(GroupPartial { groups, accs }))
}

/// Registers every array kernel (the named functions array tasks run)
/// and the codecs of blocks and partials: what a process needs to run
/// array tasks that arrive from elsewhere. Worker processes call it at
/// start-up; it is cheap and idempotent.
pub fn register() {
    use crate::ops;
    for f in [
        &crate::creation::GENERATE,
        &crate::npy::READ_NPY,
        &ops::elementwise::ELEMWISE,
        &ops::fused::FUSED,
        &ops::reduce::REDUCE,
        &ops::groupby::GROUPBY,
        &ops::rechunk::ASSEMBLE,
        &ops::shape::TRANSPOSE,
        &ops::slice::GETITEM,
        &ops::mask::MASK,
        &ops::reshape::RESHAPE,
        &ops::join::EXPAND_DIMS,
        &ops::map::CUMULATIVE,
        &ops::overlap::GATHER,
        &ops::linalg::MATMUL,
        &ops::decomp::QR_BLOCK,
        &ops::decomp::QR_STACK,
        &ops::decomp::QR_APPLY,
        &ops::decomp::QT_APPLY,
        &ops::blocksolve::CHOLESKY,
        &ops::blocksolve::LU,
        &ops::blocksolve::TRSM,
        &ops::fft::FFT,
    ] {
        blockwork_graph::register(f);
    }
    register_codecs();
}

/// Registers the codecs of every array block type and reduction partial
/// (once per process; later calls do nothing).
pub fn register_codecs() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        for dt in DType::ALL {
            with_dtype!(dt, T => {
                let name = Block::Const { value: T::default(), shape: vec![] }.type_name();
                register_codec(name, encode_block::<T>, decode_block::<T>);
            });
        }
        register_codec("moments", encode_moments, decode_moments);
        register_codec("arg partials", encode_arg, decode_arg);
        register_codec("group partials", encode_groups, decode_groups);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_and_partials_round_trip() {
        register_codecs();
        let a = ArrayD::from_shape_fn(IxDyn(&[3, 4]), |i| (i[0] * 10 + i[1]) as i32);
        let v = Block::Dense(a.clone()).into_value();
        let Value::Object(o) = &v else { panic!() };
        let (meta, bufs) = encode_block::<i32>(o.as_ref()).unwrap();
        assert_eq!(bufs[0].len(), 48);
        let back = decode_block::<i32>(&meta, bufs).unwrap();
        assert!(matches!(back.downcast_ref::<Block<i32>>(), Some(Block::Dense(b)) if *b == a));
        // A transposed view (sent in its logical order) and bool elements
        // (no byte view of their memory) take the element-by-element path.
        let t = a.t().to_owned();
        let f = a.mapv(|x| x as f64 / 3.0).reversed_axes();
        let bits = a.mapv(|x| x % 3 == 0);
        fn round_trip<T: Element>(x: &ArrayD<T>) -> ArrayD<T> {
            let v = Block::Dense(x.clone()).into_value();
            let Value::Object(o) = &v else { panic!() };
            let (meta, bufs) = encode_block::<T>(o.as_ref()).unwrap();
            let back = decode_block::<T>(&meta, bufs).unwrap();
            match back.downcast_ref::<Block<T>>() {
                Some(Block::Dense(b)) => b.clone(),
                _ => panic!("not a dense block"),
            }
        }
        assert_eq!(round_trip(&t), t);
        assert_eq!(round_trip(&f), f);
        assert_eq!(round_trip(&bits), bits);
        let c = Block::Const { value: 2.5f64, shape: vec![1000, 1000] }.into_value();
        let Value::Object(o) = &c else { panic!() };
        let (meta, bufs) = encode_block::<f64>(o.as_ref()).unwrap();
        assert!(bufs.is_empty(), "constants carry no buffer");
        let back = decode_block::<f64>(&meta, bufs).unwrap();
        assert!(
            matches!(back.downcast_ref::<Block<f64>>(), Some(Block::Const { value, shape }) if *value == 2.5 && shape == &vec![1000, 1000])
        );
        assert!(decode_block::<f64>(&meta[..3], vec![]).is_err());
        assert!(
            decode_block::<i32>(&[0, 1, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0], vec![Buffer::from(&[0u8; 5][..])]).is_err()
        );
        let m = Moments::new(
            ArrayD::from_elem(IxDyn(&[2]), 3.0),
            ArrayD::from_elem(IxDyn(&[2]), 1.5),
            ArrayD::zeros(IxDyn(&[2])),
        );
        let (meta, bufs) = encode_moments(&m).unwrap();
        assert!(decode_moments(&meta, bufs).unwrap().downcast_ref::<Moments>().is_some());
    }

    #[test]
    fn group_partials_round_trip() {
        let a = |v: f64| ArrayD::from_elem(IxDyn(&[2, 3]), v);
        let p = GroupPartial {
            groups: vec![1, 4, 5, 7],
            accs: vec![
                Acc::Sum { n: Count::Cells(a(2.0)), sum: a(5.0) },
                Acc::Sum { n: Count::Rows(3.0), sum: a(6.0) },
                Acc::Moments(Moments::new(a(3.0), a(1.0), a(0.5))),
                Acc::Extreme(a(-1.0)),
            ],
        };
        let (meta, bufs) = encode_groups(&p).unwrap();
        assert_eq!(bufs.len(), 7, "a uniform count travels in the metadata");
        let back = decode_groups(&meta, bufs.clone()).unwrap();
        let q = back.downcast_ref::<GroupPartial>().unwrap();
        assert_eq!(q.groups, p.groups);
        assert!(matches!(&q.accs[0], Acc::Sum { n: Count::Cells(n), sum } if *n == a(2.0) && *sum == a(5.0)));
        assert!(matches!(&q.accs[1], Acc::Sum { n: Count::Rows(k), sum } if *k == 3.0 && *sum == a(6.0)));
        assert!(matches!(&q.accs[3], Acc::Extreme(x) if *x == a(-1.0)));
        assert!(decode_groups(&meta, bufs[..6].to_vec()).is_err(), "a missing buffer is an error");
        assert!(decode_groups(&meta[..meta.len() - 2], bufs).is_err(), "truncated metadata is an error");
    }
}
