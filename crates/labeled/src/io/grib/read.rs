//! Reading a GRIB variable's blocks: a task per block decodes its fields'
//! messages, each one ranged read, and cuts out the block's part of the grid.

use blockwork_array::DType;
use blockwork_graph::{NamedFn, Op, Task, TaskError, TaskResult, Value};
use ndarray::{ArrayD, IxDyn};

use crate::error::Result;
use crate::io::netcdf::{FileId, FileMeta, FileVar, VarBlocks};

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

/// Reads one block of a GRIB variable. Parameters: [file, ny, nx,
/// scanning, lead block shape, latitude start and count, longitude start
/// and count, the fields in the block's leading order ([offset, length,
/// field of the message], or none)].
pub(super) fn read_kernel(params: &Value, _args: Vec<Value>) -> TaskResult {
    let malformed = || TaskError::new("malformed GRIB read parameters");
    let p = params.as_list().ok_or_else(malformed)?;
    let [file, Value::Int(ny), Value::Int(nx), Value::Int(scanning), lead, Value::Int(y0), Value::Int(ny_b), Value::Int(x0), Value::Int(nx_b), fields] =
        p
    else {
        return Err(malformed());
    };
    let id = FileId::from_value(file)?;
    let location = id.path.to_string_lossy().into_owned();
    let ints = |v: &Value| -> Vec<usize> {
        v.as_list().unwrap_or(&[]).iter().map(|x| if let Value::Int(i) = x { *i as usize } else { 0 }).collect()
    };
    let lead = ints(lead);
    let (ny, nx, y0, ny_b, x0, nx_b) =
        (*ny as usize, *nx as usize, *y0 as usize, *ny_b as usize, *x0 as usize, *nx_b as usize);
    let fields = fields.as_list().ok_or_else(malformed)?;
    let mut out = Vec::with_capacity(fields.len() * ny_b * nx_b);
    for f in fields {
        match f.as_list() {
            Some([Value::Int(o), Value::Int(l), Value::Int(s)]) => {
                let values = decode_field(&location, (*o as u64, *l as u64, *s as usize), ny, nx, *scanning as u8)
                    .map_err(|e| TaskError::new(format!("{}: {e}", id.path.display())))?;
                for j in y0..y0 + ny_b {
                    out.extend_from_slice(&values[j * nx + x0..j * nx + x0 + nx_b]);
                }
            }
            _ => out.extend(std::iter::repeat_n(f32::NAN, ny_b * nx_b)),
        }
    }
    let mut shape = lead;
    shape.extend([ny_b, nx_b]);
    let a = ArrayD::from_shape_vec(IxDyn(&shape), out).map_err(|e| TaskError::new(e.to_string()))?;
    Ok(crate::io::block(a))
}

pub(crate) static READ_GRIB: NamedFn = NamedFn::new("blockwork.labeled.read_grib", read_kernel);

/// The lazy chunked array of one GRIB variable of one file.
pub(crate) fn var_data(
    meta: &FileMeta,
    var: &FileVar,
    g: &GribVar,
    chunks: &[(&str, usize)],
) -> Result<crate::data::Data> {
    blockwork_graph::register(&READ_GRIB);
    let VarBlocks { axes, starts, token } = var.blocks(&meta.id, chunks)?;
    let file = meta.id.to_value();
    let nlead = g.lead.len();
    let int = |x: usize| Value::Int(x as i64);
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
            fields.push(match g.fields[flat] {
                Some((o, l, s)) => Value::List(vec![int(o as usize), int(l as usize), int(s)].into()),
                None => Value::Unit,
            });
        }
        let (y, x) = (nlead, nlead + 1);
        let params = Value::List(
            vec![
                file.clone(),
                int(g.ny),
                int(g.nx),
                int(g.scanning as usize),
                Value::List(ranges.iter().map(|r| int(r.1)).collect::<Vec<_>>().into()),
                int(starts[y][idx[y] as usize]),
                int(axes[y][idx[y] as usize]),
                int(starts[x][idx[x] as usize]),
                int(axes[x][idx[x] as usize]),
                Value::List(fields.into()),
            ]
            .into(),
        );
        Task::new(Op::named(&READ_GRIB, params), vec![])
    };
    crate::io::lazy_data(&format!("open-{}", var.name), token, &var.shape, axes.clone(), DType::F32, task)
}
