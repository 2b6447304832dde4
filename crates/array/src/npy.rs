//! `.npy` files: NumPy's format for one array.
//!
//! [`from_npy`] reads the header at once and each block lazily: a block's
//! task opens the file and reads its rows' byte ranges, so a task reads only
//! its block. [`Array::to_npy`] writes a C-order file of any element type
//! blockwork has. Version 1.0 and 2.0 headers are read; 1.0 is written
//! unless the header needs more room.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use blockwork_local::Config;

use blockwork_graph::{kernel_params, KernelParams, NamedFn, Op, Task, TaskError, TaskResult, Value};
use ndarray::{ArrayD, IxDyn};

use crate::array::{new_layer, normalize, Array};
use crate::block::Block;
use crate::chunks::ChunkSpec;
use crate::dtype::{with_dtype, DType, Element};
use crate::error::{ArrayError, Result};
use crate::layer::Namer;

const MAGIC: &[u8] = b"\x93NUMPY";

/// What a `.npy` header says.
#[derive(Debug, Clone, PartialEq)]
pub struct NpyHeader {
    /// NumPy's type string, e.g. `<f8`.
    pub descr: String,
    /// Whether the data is in Fortran (column-major) order.
    pub fortran_order: bool,
    /// The shape.
    pub shape: Vec<usize>,
    /// Where the data starts in the file.
    pub data_offset: u64,
}

fn io_err(path: &Path, source: std::io::Error) -> ArrayError {
    ArrayError::Io { path: path.to_path_buf(), source }
}

/// A read that came short: the file ends early (`what` is wrong with
/// it), or the system failed to read it.
fn short(path: &Path, e: std::io::Error, what: &str) -> ArrayError {
    match e.kind() {
        std::io::ErrorKind::UnexpectedEof => bad_file(path, what),
        _ => io_err(path, e),
    }
}

/// A file that is not a `.npy` file this reader takes.
fn bad_file(path: &Path, message: impl std::fmt::Display) -> ArrayError {
    ArrayError::File { path: path.to_path_buf(), message: message.to_string() }
}

/// Reads and checks the header of a `.npy` file.
pub fn read_npy_header(path: impl AsRef<Path>) -> Result<NpyHeader> {
    let path = path.as_ref();
    let mut f = File::open(path).map_err(|e| io_err(path, e))?;
    let mut pre = [0u8; 10];
    f.read_exact(&mut pre).map_err(|e| short(path, e, "not a .npy file: shorter than its preamble"))?;
    if &pre[..6] != MAGIC {
        return Err(bad_file(path, "not a .npy file: bad magic bytes"));
    }
    let (hlen, start) = match pre[6] {
        1 => (u64::from(u16::from_le_bytes([pre[8], pre[9]])), 10u64),
        2 | 3 => {
            let mut more = [0u8; 2];
            f.read_exact(&mut more).map_err(|e| short(path, e, "truncated .npy header"))?;
            (u64::from(u32::from_le_bytes([pre[8], pre[9], more[0], more[1]])), 12u64)
        }
        v => return Err(bad_file(path, format!("unsupported .npy version {v}"))),
    };
    if hlen > 1 << 20 {
        return Err(bad_file(path, format!("implausible .npy header length {hlen}")));
    }
    let mut h = vec![0u8; hlen as usize];
    f.read_exact(&mut h).map_err(|e| short(path, e, "truncated .npy header"))?;
    let h = String::from_utf8(h).map_err(|_| bad_file(path, ".npy header is not text"))?;
    let field = |name: &str| -> Result<&str> {
        let key = format!("'{name}':");
        let at = h.find(&key).ok_or_else(|| bad_file(path, format!(".npy header has no '{name}'")))?;
        Ok(h[at + key.len()..].trim_start())
    };
    let descr = field("descr")?;
    let descr = descr
        .strip_prefix('\'')
        .and_then(|d| d.split('\'').next())
        .ok_or_else(|| bad_file(path, "bad 'descr' in .npy header"))?
        .to_string();
    let fortran_order = field("fortran_order")?.starts_with("True");
    let shape_text = field("shape")?;
    let inner = shape_text
        .strip_prefix('(')
        .and_then(|s| s.split(')').next())
        .ok_or_else(|| bad_file(path, "bad 'shape' in .npy header"))?;
    let shape = inner
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.trim_end_matches('L')
                .parse::<usize>()
                .map_err(|_| bad_file(path, format!("bad dimension {s:?} in .npy shape")))
        })
        .collect::<Result<Vec<_>>>()?;
    let data_offset = start + hlen;
    let itemsize = descr_itemsize(&descr).ok_or_else(|| bad_file(path, format!("unsupported .npy dtype {descr:?}")))?;
    let need = data_offset + shape.iter().product::<usize>() as u64 * itemsize as u64;
    let have = f.metadata().map_err(|e| io_err(path, e))?.len();
    if have < need {
        return Err(bad_file(path, format!("truncated .npy file: {have} bytes, the header promises {need}")));
    }
    Ok(NpyHeader { descr, fortran_order, shape, data_offset })
}

fn descr_itemsize(d: &str) -> Option<usize> {
    DType::ALL.into_iter().find(|t| with_dtype!(*t, T => T::NPY_DESCR == d)).map(DType::itemsize)
}

kernel_params! {
    /// One block of a `.npy` file.
    struct ReadNpyParams {
        /// The file's element type.
        dtype: DType,
        /// The file.
        path: std::sync::Arc<str>,
        /// Where its data starts, in bytes.
        offset: u64,
        /// The whole array's shape.
        shape: Vec<usize>,
        /// The block's first index along each axis.
        block_offsets: Vec<usize>,
        /// The block's shape.
        block_shape: Vec<usize>,
    }
}

fn read_block(params: &Value, _args: Vec<Value>) -> TaskResult {
    let p = ReadNpyParams::from_value(params)?;
    let path = Path::new(&*p.path);
    with_dtype!(p.dtype, T => read_typed::<T>(path, p.offset, &p.shape, &p.block_offsets, &p.block_shape))
}

fn read_typed<T: Element>(path: &Path, offset: u64, shape: &[usize], boff: &[usize], bshape: &[usize]) -> TaskResult {
    use std::os::unix::fs::FileExt;
    let err = |e: std::io::Error| TaskError::environment(format!("{}: {e}", path.display()));
    let f = File::open(path).map_err(err)?;
    let size = T::DTYPE.itemsize();
    let nd = shape.len();
    let n: usize = bshape.iter().product();
    // A run is a stretch of the block that is contiguous in the file: the
    // block's rows, or more when it spans whole rows (then whole planes…).
    let mut split = nd.saturating_sub(1);
    while split > 0 && bshape[split] == shape[split] {
        split -= 1;
    }
    let run: usize = bshape[split.min(nd)..].iter().product();
    let outer = &bshape[..split.min(nd)];
    let read_runs = |bytes: &mut [u8]| -> Result<(), TaskError> {
        let mut idx = vec![0usize; outer.len()];
        for chunk in bytes.chunks_mut((run * size).max(1)) {
            let mut lin = 0usize;
            for k in 0..nd {
                lin = lin * shape[k] + boff[k] + idx.get(k).copied().unwrap_or(0);
            }
            f.read_exact_at(chunk, offset + (lin * size) as u64).map_err(err)?;
            for k in (0..idx.len()).rev() {
                idx[k] += 1;
                if idx[k] < outer[k] {
                    break;
                }
                idx[k] = 0;
            }
        }
        Ok(())
    };
    // Numbers are read straight into the block's memory (zeroed pages
    // from the allocator, no second copy); other elements through bytes.
    let mut out: Vec<T> = vec![T::default(); n];
    match T::le_bytes_mut(&mut out) {
        Some(bytes) => read_runs(bytes)?,
        None => {
            let mut bytes = vec![0u8; n * size];
            read_runs(&mut bytes)?;
            out = bytes.chunks_exact(size).map(T::from_le).collect();
        }
    }
    Ok(Block::Dense(ArrayD::from_shape_vec(IxDyn(bshape), out).map_err(TaskError::new)?).into_value())
}

pub(crate) static READ_NPY: NamedFn = NamedFn::new("blockwork.array.read_npy", read_block).params::<ReadNpyParams>();

/// Opens a `.npy` file as an array of `T` cut into `chunks`. The element
/// type must match the file's; Fortran-order files are not read (NumPy
/// writes C order unless asked).
pub fn from_npy<T: Element>(path: impl AsRef<Path>, chunks: impl Into<ChunkSpec>) -> Result<Array<T>> {
    let path: PathBuf = path.as_ref().to_path_buf();
    let h = read_npy_header(&path)?;
    if h.descr != T::NPY_DESCR {
        return Err(bad_file(&path, format!("holds {} elements, not {} ({})", h.descr, T::NPY_DESCR, T::DTYPE)));
    }
    if h.fortran_order {
        return Err(bad_file(&path, "is in Fortran order; write it in C order"));
    }
    blockwork_graph::register(&READ_NPY);
    let chunks = normalize::<T>(chunks, &h.shape)?;
    let modified = std::fs::metadata(&path).and_then(|m| m.modified()).ok().map(|t| format!("{t:?}"));
    let namer = Namer::new("read-npy").add(&path.display().to_string()).add(&modified).add(&chunks.axes().to_vec());
    let offsets: Vec<Vec<usize>> = (0..h.shape.len()).map(|ax| chunks.offsets(ax)).collect();
    // One string shared by every task's parameters.
    let pstr: std::sync::Arc<str> = path.display().to_string().into();
    let layer = new_layer("read-npy", namer, &chunks, vec![], |idx| {
        let boff: Vec<usize> = idx.iter().enumerate().map(|(ax, &i)| offsets[ax][i as usize]).collect();
        let params = ReadNpyParams {
            dtype: T::DTYPE,
            path: pstr.clone(),
            offset: h.data_offset,
            shape: h.shape.clone(),
            block_offsets: boff,
            block_shape: chunks.block_shape(idx),
        }
        .to_value();
        Task::new(Op::named(&READ_NPY, params), vec![])
    });
    Ok(Array::from_parts(h.shape.clone(), chunks, layer))
}

impl<T: Element> Array<T> {
    /// Computes the array and writes it to a `.npy` file (C order).
    pub fn to_npy(&self, path: impl AsRef<Path>) -> Result<()> {
        self.to_npy_with(path, &Config::default())
    }

    /// [`Array::to_npy`] computing with a given configuration. The
    /// computed array is written from its own memory (numbers on
    /// little-endian machines), so the peak is the array once, not twice.
    pub fn to_npy_with(&self, path: impl AsRef<Path>, config: &Config) -> Result<()> {
        let path = path.as_ref();
        let mut a = self.compute_with(config)?;
        let shape = match a.shape() {
            [] => "()".to_string(),
            [n] => format!("({n},)"),
            s => format!("({})", s.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")),
        };
        let mut header = format!("{{'descr': '{}', 'fortran_order': False, 'shape': {shape}, }}", T::NPY_DESCR);
        // Pad so that the data starts on a 64-byte boundary; the header ends in '\n'.
        let (version, pre) = if header.len() + 11 < 65536 { (1u8, 10) } else { (2u8, 12) };
        let total = (pre + header.len() + 1).div_ceil(64) * 64;
        header.push_str(&" ".repeat(total - pre - header.len() - 1));
        header.push('\n');
        let mut head = Vec::with_capacity(total);
        head.extend_from_slice(MAGIC);
        head.extend_from_slice(&[version, 0]);
        if version == 1 {
            head.extend_from_slice(&(header.len() as u16).to_le_bytes());
        } else {
            head.extend_from_slice(&(header.len() as u32).to_le_bytes());
        }
        head.extend_from_slice(header.as_bytes());
        let mut f = std::io::BufWriter::new(File::create(path).map_err(|e| io_err(path, e))?);
        f.write_all(&head).map_err(|e| io_err(path, e))?;
        if !a.is_standard_layout() {
            a = a.as_standard_layout().into_owned();
        }
        match a.as_slice_mut().and_then(T::le_bytes_mut) {
            Some(bytes) => f.write_all(bytes).map_err(|e| io_err(path, e))?,
            None => {
                // Elements without a little-endian memory image (bool): in pieces.
                let mut buf = Vec::with_capacity(1 << 16);
                for x in a.iter() {
                    x.tokenize_into(&mut buf);
                    if buf.len() >= 1 << 16 {
                        f.write_all(&buf).map_err(|e| io_err(path, e))?;
                        buf.clear();
                    }
                }
                f.write_all(&buf).map_err(|e| io_err(path, e))?;
            }
        }
        f.flush().map_err(|e| io_err(path, e))
    }
}
