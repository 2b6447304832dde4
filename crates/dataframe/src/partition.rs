//! A partition: one Polars DataFrame as a task value, and how it crosses
//! process boundaries (Arrow IPC, the columns' buffers as they are).

use std::io::Cursor;
use std::sync::Arc;

use blockwork_graph::{Buffer, CodecError};
use blockwork_graph::{Data, Value};
use polars::prelude::{DataFrame as PlFrame, IpcReader, IpcWriter, SerReader, SerWriter};

/// One Polars DataFrame, the value of a partition's task.
#[derive(Clone, Debug)]
pub struct Partition(pub PlFrame);

impl Data for Partition {
    fn nbytes(&self) -> usize {
        self.0.estimated_size()
    }

    fn type_name(&self) -> &'static str {
        CODEC
    }
}

/// The codec's registered type name.
pub(crate) const CODEC: &str = "polars.DataFrame";

impl Partition {
    /// As a task value.
    pub fn into_value(self) -> Value {
        Value::Object(Arc::new(self))
    }

    /// The frame a task value holds; an error names what it holds instead.
    pub fn of(v: &Value) -> Result<&PlFrame, blockwork_graph::TaskError> {
        v.downcast_ref::<Partition>().map(|p| &p.0).ok_or_else(|| {
            blockwork_graph::TaskError::new(format!("expected a dataframe partition, got {}", v.type_name()))
        })
    }
}

pub(crate) fn encode(d: &dyn Data) -> Option<(Vec<u8>, Vec<Buffer>)> {
    let p = (d as &dyn std::any::Any).downcast_ref::<Partition>()?;
    let mut bytes = Vec::new();
    let mut df = p.0.clone();
    IpcWriter::new(&mut bytes).finish(&mut df).ok()?;
    Some((Vec::new(), vec![Buffer::from(bytes)]))
}

pub(crate) fn decode(_: &[u8], buffers: Vec<Buffer>) -> Result<Value, CodecError> {
    let [buf] = buffers.as_slice() else { return Err(CodecError::new("a dataframe partition is one buffer")) };
    let df = IpcReader::new(Cursor::new(buf.to_vec())).finish().map_err(CodecError::new)?;
    Ok(Partition(df).into_value())
}

#[cfg(test)]
mod tests {
    use super::*;
    use polars::prelude::{Column, NamedFrom, Series};

    #[test]
    fn a_partition_crosses_a_process_boundary_intact() {
        let df = PlFrame::new(
            3,
            vec![
                Column::from(Series::new("a".into(), &[1i64, 2, 3])),
                Column::from(Series::new("b".into(), &["x", "y", "z"])),
            ],
        )
        .unwrap();
        let (meta, buffers) = encode(&Partition(df.clone())).unwrap();
        let back = decode(&meta, buffers).unwrap();
        assert!(Partition::of(&back).unwrap().equals_missing(&df));
        assert!(decode(&[], vec![]).is_err(), "no buffer: an error, not a panic");
        assert!(decode(&[], vec![Buffer::from(&b"garbage"[..])]).is_err());
    }
}
