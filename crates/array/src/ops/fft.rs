//! Discrete Fourier transforms along axes held in one chunk, as
//! `numpy.fft` and `dask.array.fft`.
//!
//! A transform needs every element of a line along its axis, so each axis
//! it runs along must be one chunk; the other axes may be chunked any way,
//! and each block is transformed by one task. An axis cut into several
//! chunks is refused with the rechunk that would make it one.
//!
//! A multi-dimensional transform is one task per block running its 1-d
//! steps in turn (`rfftn` is a real-to-complex step on the last axis, then
//! complex steps on the others). The block kernels are RustFFT's (mixed
//! radix, Bluestein for large primes; SIMD on x86-64 and ARM) and
//! RealFFT's for real input and output; a step copies each line into a
//! contiguous buffer, pads or crops it to the requested length, transforms
//! it and writes it out scaled as `norm` says.
//!
//! Element types follow NumPy 2: float32 and complex64 input give
//! complex64 (and float32 from the inverse real transforms), every other
//! type complex128 (float64).

use std::sync::Arc;

use blockwork_graph::{
    code_table, kernel_params, KernelParams, Layout, NamedFn, Op, Param, Task, TaskError, TaskResult, Value,
};
use ndarray::{ArrayD, ArrayView1, ArrayViewMut1, Axis, IxDyn, SliceInfoElem, Zip};
use rustfft::num_complex::Complex as Cx;

use crate::array::{new_layer, Array};
use crate::block::block_of;
use crate::chunks::{ChunkSpec, Chunks};
use crate::complex::{Complex, Part};
use crate::dtype::{with_dtype, with_float, DType, Element};
use crate::error::{ArrayError, Result};
use crate::layer::Namer;
use crate::ops::join::concatenate;

/// How a transform is scaled (NumPy's `norm`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Norm {
    /// The forward transform unscaled, the inverse by `1/n` (the default).
    #[default]
    Backward,
    /// Both by `1/√n`.
    Ortho,
    /// The forward transform by `1/n`, the inverse unscaled.
    Forward,
}

impl Norm {
    /// NumPy's names: `None` or `"backward"`, `"ortho"`, `"forward"`.
    pub fn parse(name: Option<&str>) -> Result<Norm> {
        match name {
            None | Some("backward") => Ok(Norm::Backward),
            Some("ortho") => Ok(Norm::Ortho),
            Some("forward") => Ok(Norm::Forward),
            Some(other) => {
                Err(ArrayError::Argument(format!("invalid norm {other:?}: use \"backward\", \"ortho\" or \"forward\"")))
            }
        }
    }

    /// The same scaling seen from the other direction (what `hfft` does
    /// with an inverse real transform).
    fn swapped(self) -> Norm {
        match self {
            Norm::Backward => Norm::Forward,
            Norm::Forward => Norm::Backward,
            Norm::Ortho => Norm::Ortho,
        }
    }

    fn code(self) -> i64 {
        self as i64
    }

    /// The factor of a transform of length `n` in direction `inverse`.
    fn scale(code: i64, n: usize, inverse: bool) -> f64 {
        match (code, inverse) {
            (1, _) => 1.0 / (n as f64).sqrt(),
            (0, true) | (2, false) => 1.0 / n as f64,
            _ => 1.0,
        }
    }
}

/// Element types a transform takes, and the float type of its result.
pub trait FftInput: Element {
    /// f32 for float32 and complex64, f64 for the others.
    type Part: Part;
}

macro_rules! fft_input {
    ($($t:ty => $p:ty),*) => {$(impl FftInput for $t { type Part = $p; })*};
}
fft_input!(f64 => f64, f32 => f32, i64 => f64, i32 => f64, u8 => f64, bool => f64,
    Complex<f64> => f64, Complex<f32> => f32);

kernel_params! {
    /// One 1-d transform of a kernel's program.
    #[derive(Copy)]
    struct Step {
        kind: Kind,
        axis: usize,
        /// The transform's length (its output length for complex and
        /// inverse real steps; `n/2 + 1` outputs for forward real ones).
        n: usize,
        norm: Norm,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Forward,
    Inverse,
    /// Real to complex, forward; `conj` for `ihfft`.
    RealForward {
        conj: bool,
    },
    /// Complex to real, inverse; `conj` (of the input) for `hfft`.
    RealInverse {
        conj: bool,
    },
}

impl Kind {
    fn code(self) -> i64 {
        match self {
            Kind::Forward => 0,
            Kind::Inverse => 1,
            Kind::RealForward { conj } => 2 + i64::from(conj),
            Kind::RealInverse { conj } => 4 + i64::from(conj),
        }
    }

    fn of(code: i64) -> Option<Kind> {
        Some(match code {
            0 => Kind::Forward,
            1 => Kind::Inverse,
            2 | 3 => Kind::RealForward { conj: code == 3 },
            4 | 5 => Kind::RealInverse { conj: code == 5 },
            _ => return None,
        })
    }

    fn out_len(self, n: usize) -> usize {
        match self {
            Kind::RealForward { .. } => n / 2 + 1,
            _ => n,
        }
    }
}

/// How a transform's kind is coded ([`Kind::code`]).
const KIND_CODES: Layout = Layout {
    text: "Kind codes: 0 Forward, 1 Inverse, 2 RealForward, 3 RealForward conj, 4 RealInverse, 5 RealInverse conj",
    nested: &[],
};

/// A transform's kind as a parameter: its code.
impl Param for Kind {
    const DECLARED: Option<&'static Layout> = Some(&KIND_CODES);
    fn to_param(&self) -> Value {
        Value::Int(self.code())
    }
    fn from_param(v: &Value) -> Option<Self> {
        Kind::of(i64::from_param(v)?)
    }
}

code_table! {
    /// The scalings in code order ([`Norm::code`]); a scaling is a
    /// parameter written as its place here.
    const NORMS: [Norm] = [Backward, Ortho, Forward]; layout NORM_CODES, param;
}

kernel_params! {
    /// A program of 1-d transforms of one block.
    struct FftParams {
        /// The block's element type.
        input: DType,
        /// The type of the parts the transforms work in (f32 or f64).
        part: DType,
        /// The transforms, in order.
        steps: Vec<Step>,
    }
}

/// A block in the middle of a program: real or complex elements.
enum Work<F> {
    Real(ArrayD<F>),
    Complex(ArrayD<Complex<F>>),
}

/// Args: the block.
fn fft_kernel(params: &Value, args: Vec<Value>) -> TaskResult {
    let FftParams { input, part, steps } = FftParams::from_value(params)?;
    let v = args.first().ok_or_else(|| TaskError::new("an FFT without its block"))?;
    with_float!(part, F => {
        let real_first = matches!(steps.first(), Some(Step { kind: Kind::RealForward { .. }, .. }));
        let mut work: Work<F> = with_dtype!(input, T => {
            let b = block_of::<T>(v)?.view();
            if real_first {
                Work::Real(b.mapv(|x| <F as Element>::from_f64(x.as_f64())))
            } else {
                Work::Complex(b.mapv(|x| {
                    let (re, im) = x.as_pair();
                    Complex::from_pair(re, im)
                }))
            }
        });
        for step in &steps {
            work = run_step(work, step)?;
        }
        Ok(match work {
            Work::Real(a) => crate::block::Block::Dense(a).into_value(),
            Work::Complex(a) => crate::block::Block::Dense(a).into_value(),
        })
    }, Err(TaskError::new(format!("FFT results of {part} parts"))))
}

pub(crate) static FFT: NamedFn = NamedFn::new("blockwork.array.fft", fft_kernel).params::<FftParams>();

/// Applies `f` to every line along `axis` of `x`, writing lines of `len`
/// elements of the result.
fn along<I: Copy, O: Copy + Default>(
    x: &ArrayD<I>,
    axis: usize,
    len: usize,
    mut f: impl FnMut(ArrayView1<'_, I>, ArrayViewMut1<'_, O>) -> Result<(), TaskError>,
) -> Result<ArrayD<O>, TaskError> {
    if axis >= x.ndim() {
        return Err(TaskError::new(format!("an FFT along axis {axis} of a {}-d block", x.ndim())));
    }
    let mut shape = x.shape().to_vec();
    shape[axis] = len;
    let mut out = ArrayD::from_elem(IxDyn(&shape), O::default());
    let mut res = Ok(());
    Zip::from(x.lanes(Axis(axis))).and(out.lanes_mut(Axis(axis))).for_each(|a, b| {
        if res.is_ok() {
            res = f(a, b);
        }
    });
    res.map(|()| out)
}

/// Copies a line into `buf`, cropped or padded with zeros to its length.
fn load<I: Copy, B: Copy + Default>(line: ArrayView1<'_, I>, buf: &mut [B], conv: impl Fn(I) -> B) {
    let m = line.len().min(buf.len());
    for (b, &x) in buf.iter_mut().zip(line.iter()).take(m) {
        *b = conv(x);
    }
    buf[m..].fill(B::default());
}

fn run_step<F: Part>(work: Work<F>, step: &Step) -> Result<Work<F>, TaskError> {
    let Step { kind, axis, n, norm } = *step;
    let inverse = matches!(kind, Kind::Inverse | Kind::RealInverse { .. });
    let scale = <F as Element>::from_f64(Norm::scale(norm.code(), n, inverse));
    let unscaled = scale == F::ONE;
    let bad = |e: &dyn std::fmt::Display| TaskError::new(format!("FFT of length {n}: {e}"));
    Ok(match (kind, work) {
        (Kind::Forward | Kind::Inverse, Work::Complex(x)) => {
            let mut planner = rustfft::FftPlanner::<F>::new();
            let plan = if inverse { planner.plan_fft_inverse(n) } else { planner.plan_fft_forward(n) };
            let mut buf = vec![Cx::new(F::ZERO, F::ZERO); n];
            let mut scratch = vec![Cx::new(F::ZERO, F::ZERO); plan.get_inplace_scratch_len()];
            Work::Complex(along(&x, axis, n, |line, mut out| {
                load(line, &mut buf, |z: Complex<F>| Cx::new(z.re, z.im));
                plan.process_with_scratch(&mut buf, &mut scratch);
                for (o, z) in out.iter_mut().zip(&buf) {
                    *o = if unscaled { Complex::new(z.re, z.im) } else { Complex::new(z.re * scale, z.im * scale) };
                }
                Ok(())
            })?)
        }
        (Kind::RealForward { conj }, Work::Real(x)) => {
            let plan = realfft::RealFftPlanner::<F>::new().plan_fft_forward(n);
            let mut input = plan.make_input_vec();
            let mut output = plan.make_output_vec();
            let mut scratch = plan.make_scratch_vec();
            Work::Complex(along(&x, axis, n / 2 + 1, |line, mut out| {
                load(line, &mut input, |v: F| v);
                plan.process_with_scratch(&mut input, &mut output, &mut scratch).map_err(|e| bad(&e))?;
                for (o, z) in out.iter_mut().zip(&output) {
                    let im = if conj { F::ZERO - z.im } else { z.im };
                    *o = Complex::new(z.re * scale, im * scale);
                }
                Ok(())
            })?)
        }
        (Kind::RealInverse { conj }, Work::Complex(x)) => {
            let plan = realfft::RealFftPlanner::<F>::new().plan_fft_inverse(n);
            let mut input = plan.make_input_vec();
            let mut output = plan.make_output_vec();
            let mut scratch = plan.make_scratch_vec();
            let last = input.len() - 1;
            Work::Real(along(&x, axis, n, |line, mut out| {
                load(line, &mut input, |z: Complex<F>| Cx::new(z.re, if conj { F::ZERO - z.im } else { z.im }));
                // The imaginary parts of the zero frequency (and of the
                // Nyquist frequency, for even lengths) do not enter a real
                // signal; NumPy ignores them, and so does this.
                input[0].im = F::ZERO;
                if n % 2 == 0 {
                    input[last].im = F::ZERO;
                }
                plan.process_with_scratch(&mut input, &mut output, &mut scratch).map_err(|e| bad(&e))?;
                for (o, &v) in out.iter_mut().zip(&output) {
                    *o = v * scale;
                }
                Ok(())
            })?)
        }
        _ => return Err(TaskError::new("an FFT step on elements of the wrong kind")),
    })
}

/// The axis `axis` of an `ndim`-d array, counted from the end if negative.
fn axis_of(axis: isize, ndim: usize) -> Result<usize> {
    let ax = if axis < 0 { axis + ndim as isize } else { axis };
    usize::try_from(ax)
        .ok()
        .filter(|&a| a < ndim)
        .ok_or_else(|| ArrayError::Axis(format!("axis {axis} is out of bounds for an array of dimension {ndim}")))
}

/// Runs `steps` on every block of `x`, giving an array of `out`.
fn transform<T: FftInput, U: Element>(name: &str, x: &Array<T>, steps: Vec<Step>) -> Result<Array<U>> {
    let mut axes = x.chunks.axes().to_vec();
    for s in &steps {
        if s.n == 0 {
            return Err(ArrayError::Argument(format!(
                "{name}: invalid number of data points (0) along axis {}",
                s.axis
            )));
        }
        let chunks = &axes[s.axis];
        if chunks.len() > 1 {
            return Err(ArrayError::Chunks(format!(
                "{name} along axis {ax} needs that axis in one chunk, but it has {k} chunks {chunks:?}: \
                 rechunk it first, e.g. x.rechunk({{{ax}: -1}})",
                ax = s.axis,
                k = chunks.len()
            )));
        }
        axes[s.axis] = vec![s.kind.out_len(s.n)];
    }
    blockwork_graph::register(&FFT);
    let params = FftParams { input: T::DTYPE, part: <T::Part as Element>::DTYPE, steps: steps.clone() }.to_value();
    let op = Op::named(&FFT, params.clone());
    let chunks = Chunks(axes);
    let namer = Namer::new(name).input(&x.layer).add(&params);
    let layer = new_layer(name, namer, &chunks, vec![Arc::clone(&x.layer)], |idx| {
        Task::new(op.clone(), vec![blockwork_graph::r(x.key(idx))])
    });
    Ok(Array::from_parts(chunks.shape(), chunks, layer))
}

/// The axes and lengths of an n-d transform, as NumPy's `s` and `axes`:
/// the last `len(s)` axes when only `s` is given, every axis when
/// neither; a length not given is the axis's (`default_last` for the last
/// axis of the inverse real transforms).
fn plan_nd(
    name: &str,
    shape: &[usize],
    s: Option<&[usize]>,
    axes: Option<&[isize]>,
    default_last: Option<&dyn Fn(usize) -> usize>,
) -> Result<Vec<(usize, usize)>> {
    let nd = shape.len();
    let axes: Vec<usize> = match (axes, s) {
        (Some(a), _) => a.iter().map(|&a| axis_of(a, nd)).collect::<Result<_>>()?,
        (None, Some(s)) => {
            if s.len() > nd {
                return Err(ArrayError::Argument(format!(
                    "{name}: {} lengths for an array of dimension {nd}",
                    s.len()
                )));
            }
            (nd - s.len()..nd).collect()
        }
        (None, None) => (0..nd).collect(),
    };
    if let Some((i, &a)) = axes.iter().enumerate().find(|(i, a)| axes[..*i].contains(a)) {
        return Err(ArrayError::Axis(format!("{name}: axis {a} repeated (position {i})")));
    }
    if let Some(s) = s {
        if s.len() != axes.len() {
            return Err(ArrayError::Argument(format!("{name}: shape {s:?} and axes {axes:?} differ in length")));
        }
    }
    if axes.is_empty() {
        return Err(ArrayError::Argument(format!("{name}: no axes to transform")));
    }
    let last = axes.len() - 1;
    Ok(axes
        .iter()
        .enumerate()
        .map(|(i, &ax)| {
            let n = match (s, default_last) {
                (Some(s), _) => s[i],
                (None, Some(f)) if i == last => f(shape[ax]),
                _ => shape[ax],
            };
            (ax, n)
        })
        .collect())
}

fn c2c<T: FftInput>(
    name: &str,
    x: &Array<T>,
    plan: &[(usize, usize)],
    inverse: bool,
    norm: Norm,
) -> Result<Array<Complex<T::Part>>> {
    let kind = if inverse { Kind::Inverse } else { Kind::Forward };
    transform(name, x, plan.iter().map(|&(axis, n)| Step { kind, axis, n, norm }).collect())
}

/// The 1-d transform along `axis`, of length `n` (the axis's by default;
/// the input cropped or padded with zeros to it).
pub fn fft<T: FftInput>(x: &Array<T>, n: Option<usize>, axis: isize, norm: Norm) -> Result<Array<Complex<T::Part>>> {
    let ax = axis_of(axis, x.ndim())?;
    c2c("fft", x, &[(ax, n.unwrap_or(x.shape[ax]))], false, norm)
}

/// The inverse of [`fft`].
pub fn ifft<T: FftInput>(x: &Array<T>, n: Option<usize>, axis: isize, norm: Norm) -> Result<Array<Complex<T::Part>>> {
    let ax = axis_of(axis, x.ndim())?;
    c2c("ifft", x, &[(ax, n.unwrap_or(x.shape[ax]))], true, norm)
}

/// The n-d transform over `axes` with lengths `s` (NumPy's `fftn`).
pub fn fftn<T: FftInput>(
    x: &Array<T>,
    s: Option<&[usize]>,
    axes: Option<&[isize]>,
    norm: Norm,
) -> Result<Array<Complex<T::Part>>> {
    c2c("fftn", x, &plan_nd("fftn", &x.shape, s, axes, None)?, false, norm)
}

/// The inverse of [`fftn`].
pub fn ifftn<T: FftInput>(
    x: &Array<T>,
    s: Option<&[usize]>,
    axes: Option<&[isize]>,
    norm: Norm,
) -> Result<Array<Complex<T::Part>>> {
    c2c("ifftn", x, &plan_nd("ifftn", &x.shape, s, axes, None)?, true, norm)
}

/// The 2-d transform (axes −2 and −1 by default).
pub fn fft2<T: FftInput>(
    x: &Array<T>,
    s: Option<&[usize]>,
    axes: Option<&[isize]>,
    norm: Norm,
) -> Result<Array<Complex<T::Part>>> {
    fftn(x, s, Some(axes.unwrap_or(&[-2, -1])), norm)
}

/// The inverse of [`fft2`].
pub fn ifft2<T: FftInput>(
    x: &Array<T>,
    s: Option<&[usize]>,
    axes: Option<&[isize]>,
    norm: Norm,
) -> Result<Array<Complex<T::Part>>> {
    ifftn(x, s, Some(axes.unwrap_or(&[-2, -1])), norm)
}

/// The transform of real input: the `n/2 + 1` non-negative frequencies
/// (the imaginary part of complex input is dropped, as NumPy does).
pub fn rfft<T: FftInput>(x: &Array<T>, n: Option<usize>, axis: isize, norm: Norm) -> Result<Array<Complex<T::Part>>> {
    let ax = axis_of(axis, x.ndim())?;
    let n = n.unwrap_or(x.shape[ax]);
    transform("rfft", x, vec![Step { kind: Kind::RealForward { conj: false }, axis: ax, n, norm }])
}

/// The inverse of [`rfft`]: `n` real outputs (`2(m − 1)` by default, for
/// `m` input frequencies).
pub fn irfft<T: FftInput>(x: &Array<T>, n: Option<usize>, axis: isize, norm: Norm) -> Result<Array<T::Part>> {
    let ax = axis_of(axis, x.ndim())?;
    let n = n.unwrap_or(2 * x.shape[ax].saturating_sub(1));
    transform("irfft", x, vec![Step { kind: Kind::RealInverse { conj: false }, axis: ax, n, norm }])
}

/// The n-d transform of real input: real-to-complex along the last of
/// `axes`, complex along the others.
pub fn rfftn<T: FftInput>(
    x: &Array<T>,
    s: Option<&[usize]>,
    axes: Option<&[isize]>,
    norm: Norm,
) -> Result<Array<Complex<T::Part>>> {
    let plan = plan_nd("rfftn", &x.shape, s, axes, None)?;
    let (&(axis, n), rest) = plan.split_last().expect("plan_nd gives at least one axis");
    let mut steps = vec![Step { kind: Kind::RealForward { conj: false }, axis, n, norm }];
    steps.extend(rest.iter().map(|&(axis, n)| Step { kind: Kind::Forward, axis, n, norm }));
    transform("rfftn", x, steps)
}

/// The inverse of [`rfftn`]: complex along all but the last of `axes`,
/// then complex-to-real along it (`2(m − 1)` outputs by default).
pub fn irfftn<T: FftInput>(
    x: &Array<T>,
    s: Option<&[usize]>,
    axes: Option<&[isize]>,
    norm: Norm,
) -> Result<Array<T::Part>> {
    let plan = plan_nd("irfftn", &x.shape, s, axes, Some(&|m: usize| 2 * m.saturating_sub(1)))?;
    let (&(axis, n), rest) = plan.split_last().expect("plan_nd gives at least one axis");
    let mut steps: Vec<Step> = rest.iter().map(|&(axis, n)| Step { kind: Kind::Inverse, axis, n, norm }).collect();
    steps.push(Step { kind: Kind::RealInverse { conj: false }, axis, n, norm });
    transform("irfftn", x, steps)
}

/// [`rfftn`] over axes −2 and −1 by default.
pub fn rfft2<T: FftInput>(
    x: &Array<T>,
    s: Option<&[usize]>,
    axes: Option<&[isize]>,
    norm: Norm,
) -> Result<Array<Complex<T::Part>>> {
    rfftn(x, s, Some(axes.unwrap_or(&[-2, -1])), norm)
}

/// [`irfftn`] over axes −2 and −1 by default.
pub fn irfft2<T: FftInput>(
    x: &Array<T>,
    s: Option<&[usize]>,
    axes: Option<&[isize]>,
    norm: Norm,
) -> Result<Array<T::Part>> {
    irfftn(x, s, Some(axes.unwrap_or(&[-2, -1])), norm)
}

/// The transform of a signal with Hermitian symmetry (its real spectrum):
/// `n` real outputs, `2(m − 1)` by default.
pub fn hfft<T: FftInput>(x: &Array<T>, n: Option<usize>, axis: isize, norm: Norm) -> Result<Array<T::Part>> {
    let ax = axis_of(axis, x.ndim())?;
    let n = n.unwrap_or(2 * x.shape[ax].saturating_sub(1));
    transform("hfft", x, vec![Step { kind: Kind::RealInverse { conj: true }, axis: ax, n, norm: norm.swapped() }])
}

/// The inverse of [`hfft`]: `n/2 + 1` complex outputs of real input.
pub fn ihfft<T: FftInput>(x: &Array<T>, n: Option<usize>, axis: isize, norm: Norm) -> Result<Array<Complex<T::Part>>> {
    let ax = axis_of(axis, x.ndim())?;
    let n = n.unwrap_or(x.shape[ax]);
    transform("ihfft", x, vec![Step { kind: Kind::RealForward { conj: true }, axis: ax, n, norm: norm.swapped() }])
}

/// The sample frequencies of an `n`-point transform with sample spacing
/// `d`: `[0, 1, …, ⌈n/2⌉ − 1, −⌊n/2⌋, …, −1] / (d·n)`.
pub fn fftfreq(n: usize, d: f64, chunks: impl Into<ChunkSpec>) -> Result<Array<f64>> {
    let i = crate::creation::arange::<f64>(0.0, n as f64, 1.0, chunks)?;
    let wrapped = i.sub(n as f64)?;
    let freqs = crate::ops::elementwise::where_(&i.greater_equal(n.div_ceil(2) as f64)?, &wrapped, &i)?;
    freqs.div(d * n as f64)
}

/// The non-negative sample frequencies of an `n`-point [`rfft`]:
/// `[0, 1, …, ⌊n/2⌋] / (d·n)`.
pub fn rfftfreq(n: usize, d: f64, chunks: impl Into<ChunkSpec>) -> Result<Array<f64>> {
    crate::creation::arange::<f64>(0.0, (n / 2 + 1) as f64, 1.0, chunks)?.div(d * n as f64)
}

/// `x` rolled by `shift` along `ax` (element `i` moves to `i + shift`),
/// made of slices and a concatenation, so any chunking works.
fn roll<T: Element>(x: &Array<T>, ax: usize, shift: isize) -> Result<Array<T>> {
    let n = x.shape[ax] as isize;
    if n == 0 {
        return Ok(x.clone());
    }
    let k = shift.rem_euclid(n);
    if k == 0 {
        return Ok(x.clone());
    }
    let part = |start: isize, end: isize| {
        let info: Vec<SliceInfoElem> = (0..x.ndim())
            .map(|a| {
                if a == ax {
                    SliceInfoElem::Slice { start, end: Some(end), step: 1 }
                } else {
                    SliceInfoElem::Slice { start: 0, end: None, step: 1 }
                }
            })
            .collect();
        x.slice(info)
    };
    concatenate(&[&part(n - k, n)?, &part(0, n - k)?], ax as isize)
}

fn shift_axes<T: Element>(x: &Array<T>, axes: Option<&[isize]>, inverse: bool) -> Result<Array<T>> {
    let axes: Vec<usize> = match axes {
        Some(a) => a.iter().map(|&a| axis_of(a, x.ndim())).collect::<Result<_>>()?,
        None => (0..x.ndim()).collect(),
    };
    let mut out = x.clone();
    for ax in axes {
        let half = (x.shape[ax] / 2) as isize;
        out = roll(&out, ax, if inverse { -half } else { half })?;
    }
    Ok(out)
}

/// The zero frequency moved to the middle of `axes` (every axis by default).
pub fn fftshift<T: Element>(x: &Array<T>, axes: Option<&[isize]>) -> Result<Array<T>> {
    shift_axes(x, axes, false)
}

/// The inverse of [`fftshift`].
pub fn ifftshift<T: Element>(x: &Array<T>, axes: Option<&[isize]>) -> Result<Array<T>> {
    shift_axes(x, axes, true)
}
