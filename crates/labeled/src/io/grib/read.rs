//! Reading a GRIB variable's blocks: a task per block decodes its fields'
//! messages, each one ranged read, and cuts out the block's part of the grid.

use blockwork_array::DType;
use blockwork_graph::{kernel_params, KernelParams, NamedFn, Op, Task, TaskError, TaskResult, Value};
use ndarray::{ArrayD, IxDyn};

use crate::error::Result;
use crate::io::netcdf::{FileId, FileMeta, FileRef, FileVar, VarBlocks};

use super::GribVar;

/// Decodes one field into `ny × nx` values in the grid's row order.
pub(super) fn decode_field(
    location: &str,
    (offset, len, sub): (u64, u64, usize),
    ny: usize,
    nx: usize,
    scanning: u8,
) -> std::result::Result<Vec<f32>, String> {
    let bytes = blockwork_store::get_range(location, offset, offset + len).map_err(|e| e.to_string())?;
    let decoded = std::panic::catch_unwind(|| -> std::result::Result<Vec<f32>, String> {
        let grib2 = grib::from_bytes(bytes).map_err(|e| e.to_string())?;
        let (_, sm) = grib2.iter().nth(sub).ok_or("the message has fewer fields than when it was opened")?;
        let decoder = grib::Grib2SubmessageDecoder::from(sm).map_err(|e| e.to_string())?;
        let values: Vec<f32> = decoder.dispatch().map_err(|e| e.to_string())?.collect();
        Ok(values)
    })
    .unwrap_or_else(|_| Err("the GRIB2 decoder failed on malformed data".to_string()))?;
    if decoded.len() != ny * nx {
        return Err(format!("{} values decoded for a {ny} × {nx} grid", decoded.len()));
    }
    if scanning & 0x20 == 0 {
        return Ok(decoded);
    }
    // Columns consecutive: transpose to rows.
    let mut rows = vec![0f32; ny * nx];
    for i in 0..nx {
        for j in 0..ny {
            rows[j * nx + i] = decoded[i * ny + j];
        }
    }
    Ok(rows)
}

kernel_params! {
    /// One field's message in a file: a ranged read.
    struct GribField {
        /// Where the message starts, in bytes.
        offset: u64,
        /// Its length in bytes.
        len: u64,
        /// The field's place among the message's fields.
        sub: usize,
    }
}

kernel_params! {
    /// One block of a GRIB variable.
    struct ReadGribParams {
        /// The file.
        file: FileRef,
        /// The grid's rows and columns.
        ny: usize,
        nx: usize,
        /// The grid's scanning mode (Flag Table 3.4).
        scanning: u8,
        /// The block's shape along the leading (non-grid) dimensions.
        lead: Vec<usize>,
        /// The block's first row and its rows.
        y0: usize,
        ny_b: usize,
        /// The block's first column and its columns.
        x0: usize,
        nx_b: usize,
        /// The block's fields in its leading C order; none where a
        /// combination has no message (its values are NaN).
        fields: Vec<Option<GribField>>,
    }
}

/// Reads one block of a GRIB variable.
pub(super) fn read_kernel(params: &Value, _args: Vec<Value>) -> TaskResult {
    let ReadGribParams { file, ny, nx, scanning, lead, y0, ny_b, x0, nx_b, fields } =
        ReadGribParams::from_value(params)?;
    let id = FileId::from(&file);
    let location = id.path.to_string_lossy().into_owned();
    let mut out = Vec::with_capacity(fields.len() * ny_b * nx_b);
    for f in &fields {
        match f {
            Some(f) => {
                let values = decode_field(&location, (f.offset, f.len, f.sub), ny, nx, scanning)
                    .map_err(|e| TaskError::new(format!("{}: {e}", id.path.display())))?;
                for j in y0..y0 + ny_b {
                    out.extend_from_slice(&values[j * nx + x0..j * nx + x0 + nx_b]);
                }
            }
            None => out.extend(std::iter::repeat_n(f32::NAN, ny_b * nx_b)),
        }
    }
    let mut shape = lead;
    shape.extend([ny_b, nx_b]);
    let a = ArrayD::from_shape_vec(IxDyn(&shape), out).map_err(|e| TaskError::new(e.to_string()))?;
    Ok(crate::io::block(a))
}

pub(crate) static READ_GRIB: NamedFn =
    NamedFn::new("blockwork.labeled.read_grib", read_kernel).params::<ReadGribParams>();

/// The lazy chunked array of one GRIB variable of one file.
pub(crate) fn var_data(
    meta: &FileMeta,
    var: &FileVar,
    g: &GribVar,
    chunks: &[(&str, usize)],
) -> Result<crate::data::Data> {
    blockwork_graph::register(&READ_GRIB);
    let VarBlocks { axes, starts, token } = var.blocks(&meta.id, chunks)?;
    let file = meta.id.to_ref();
    let nlead = g.lead.len();
    let task = |idx: &[u32]| {
        // The block's leading ranges, and its fields in C order.
        let ranges: Vec<(usize, usize)> =
            (0..nlead).map(|ax| (starts[ax][idx[ax] as usize], axes[ax][idx[ax] as usize])).collect();
        let mut fields = Vec::new();
        let count: usize = ranges.iter().map(|r| r.1).product();
        for k in 0..count {
            let mut rem = k;
            let mut flat = 0;
            let mut pos = vec![0; nlead];
            for ax in (0..nlead).rev() {
                pos[ax] = ranges[ax].0 + rem % ranges[ax].1;
                rem /= ranges[ax].1;
            }
            flat = pos.iter().zip(&g.lead).fold(flat, |f, (p, n)| f * n + p);
            fields.push(g.fields[flat].map(|(offset, len, sub)| GribField { offset, len, sub }));
        }
        let (y, x) = (nlead, nlead + 1);
        let params = ReadGribParams {
            file: file.clone(),
            ny: g.ny,
            nx: g.nx,
            scanning: g.scanning,
            lead: ranges.iter().map(|r| r.1).collect(),
            y0: starts[y][idx[y] as usize],
            ny_b: axes[y][idx[y] as usize],
            x0: starts[x][idx[x] as usize],
            nx_b: axes[x][idx[x] as usize],
            fields,
        };
        Task::new(Op::named(&READ_GRIB, params.to_value()), vec![])
    };
    crate::io::lazy_data(&format!("open-{}", var.name), token, &var.shape, axes.clone(), DType::F32, task)
}
