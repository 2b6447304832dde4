//! Fourier transforms against a plain O(n²) discrete Fourier transform,
//! and complex arithmetic against plain complex numbers, on random
//! shapes, chunkings, lengths and scalings.

mod common;

use blockwork_array::fft::{self, Norm};
use blockwork_array::{complex, from_ndarray, Array, Complex, DType, Element};
use common::{configs, cut, data};
use ndarray::{ArrayD, Axis, IxDyn};
use proptest::prelude::*;

type C = Complex<f64>;

/// `Σ_j x_j e^{∓2πi jk/n}` along `axis`, the input cropped or padded to
/// `n`, scaled by `scale`.
fn dft(x: &ArrayD<C>, axis: usize, n: usize, inverse: bool, scale: f64) -> ArrayD<C> {
    let mut shape = x.shape().to_vec();
    shape[axis] = n;
    let mut out = ArrayD::from_elem(IxDyn(&shape), C::default());
    let sign = if inverse { 1.0 } else { -1.0 };
    for (line, mut o) in x.lanes(Axis(axis)).into_iter().zip(out.lanes_mut(Axis(axis))) {
        for k in 0..n {
            let mut acc = C::default();
            for (j, &v) in line.iter().enumerate().take(n) {
                let t = sign * 2.0 * std::f64::consts::PI * (j * k % n) as f64 / n as f64;
                acc = acc + v * C::new(t.cos(), t.sin());
            }
            o[k] = C::new(acc.re * scale, acc.im * scale);
        }
    }
    out
}

/// The scale NumPy applies for `norm` to a transform of length `n`.
fn scale(norm: Norm, n: usize, inverse: bool) -> f64 {
    match (norm, inverse) {
        (Norm::Ortho, _) => 1.0 / (n as f64).sqrt(),
        (Norm::Backward, true) | (Norm::Forward, false) => 1.0 / n as f64,
        _ => 1.0,
    }
}

/// The full spectrum of length `n` of a real signal from its first
/// `n/2 + 1` frequencies (cropped or padded), NumPy's reading of `irfft`
/// input: the imaginary parts of the zero and Nyquist terms dropped.
fn hermitian(x: &ArrayD<C>, axis: usize, n: usize) -> ArrayD<C> {
    let half = n / 2 + 1;
    let mut shape = x.shape().to_vec();
    shape[axis] = n;
    let mut out = ArrayD::from_elem(IxDyn(&shape), C::default());
    for (line, mut o) in x.lanes(Axis(axis)).into_iter().zip(out.lanes_mut(Axis(axis))) {
        let get = |k: usize| if k < line.len() && k < half { line[k] } else { C::default() };
        for k in 0..n {
            let mut v = if k < half { get(k) } else { get(n - k).conj() };
            if k == 0 || (n.is_multiple_of(2) && k == n / 2) {
                v.im = 0.0;
            }
            o[k] = v;
        }
    }
    out
}

fn complex_data(shape: &[usize], seed: u64) -> ArrayD<C> {
    let (re, im) = (data(shape, seed), data(shape, seed ^ 0x9e37));
    ndarray::Zip::from(&re).and(&im).map_collect(|&a, &b| C::new(a, b))
}

fn close_c(a: &ArrayD<C>, b: &ArrayD<C>) -> bool {
    let mag = b.iter().map(|z| z.norm()).fold(1.0, f64::max);
    a.shape() == b.shape() && a.iter().zip(b).all(|(x, y)| (*x - *y).norm() <= 1e-9 * mag)
}

fn close_r(a: &ArrayD<f64>, b: &ArrayD<f64>) -> bool {
    let mag = b.iter().map(|z| z.abs()).fold(1.0, f64::max);
    a.shape() == b.shape() && a.iter().zip(b).all(|(x, y)| (x - y).abs() <= 1e-9 * mag)
}

fn real_part(a: &ArrayD<C>) -> ArrayD<f64> {
    a.mapv(|z| z.re)
}

fn as_complex(a: &ArrayD<f64>) -> ArrayD<C> {
    a.mapv(|x| C::new(x, 0.0))
}

/// Chunks with `axis` whole and the other axes cut by `cuts`.
fn chunks_keeping(shape: &[usize], axis: usize, cuts: &[usize]) -> Vec<Vec<usize>> {
    shape.iter().enumerate().map(|(a, &n)| if a == axis { vec![n] } else { cut(n, cuts) }).collect()
}

fn norm_of(i: u8) -> Norm {
    [Norm::Backward, Norm::Ortho, Norm::Forward][i as usize % 3]
}

fn compute<T: Element>(a: &Array<T>, cfg: usize) -> ArrayD<T> {
    a.compute_with(&configs()[cfg]).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn one_d_transforms_match_the_plain_dft(
        shape in proptest::collection::vec(1usize..9, 1..4),
        axis_pick in 0usize..3,
        n in proptest::option::of(1usize..12),
        cuts in proptest::collection::vec(1usize..4, 9),
        norm in any::<u8>(),
        cfg in 0usize..2,
        seed in any::<u64>(),
    ) {
        let axis = axis_pick % shape.len();
        let norm = norm_of(norm);
        let chunks = chunks_keeping(&shape, axis, &cuts);
        let m = shape[axis];
        let (z, r) = (complex_data(&shape, seed), data(&shape, seed));
        let (zx, rx) = (from_ndarray(z.clone(), chunks.clone()).unwrap(), from_ndarray(r.clone(), chunks).unwrap());
        let ax = axis as isize;
        let len = n.unwrap_or(m);

        let want = dft(&z, axis, len, false, scale(norm, len, false));
        prop_assert!(close_c(&compute(&fft::fft(&zx, n, ax, norm).unwrap(), cfg), &want), "fft");
        let want = dft(&z, axis, len, true, scale(norm, len, true));
        prop_assert!(close_c(&compute(&fft::ifft(&zx, n, ax, norm).unwrap(), cfg), &want), "ifft");

        // Real input: the non-negative half of the full transform.
        let full = dft(&as_complex(&r), axis, len, false, scale(norm, len, false));
        let want = full.slice_axis(Axis(axis), ndarray::Slice::from(0..len / 2 + 1)).to_owned();
        let got = compute(&fft::rfft(&rx, n, ax, norm).unwrap(), cfg);
        prop_assert!(close_c(&got, &want), "rfft");
        // ihfft is the conjugate of rfft with the other direction's scale.
        let want = want.mapv(|v| C::new(v.re, -v.im) ) .mapv(|v| C::new(v.re * scale(norm, len, true) / scale(norm, len, false), v.im * scale(norm, len, true) / scale(norm, len, false)));
        prop_assert!(close_c(&compute(&fft::ihfft(&rx, n, ax, norm).unwrap(), cfg), &want), "ihfft");

        // Inverse real transforms of complex input: n outputs, 2(m-1) by default.
        let out_n = n.unwrap_or(2 * m.saturating_sub(1));
        if out_n > 0 {
            let want = real_part(&dft(&hermitian(&z, axis, out_n), axis, out_n, true, scale(norm, out_n, true)));
            prop_assert!(close_r(&compute(&fft::irfft(&zx, n, ax, norm).unwrap(), cfg), &want), "irfft");
            let conj = z.mapv(|v| v.conj());
            let want = real_part(&dft(&hermitian(&conj, axis, out_n), axis, out_n, true, scale(norm, out_n, false)));
            prop_assert!(close_r(&compute(&fft::hfft(&zx, n, ax, norm).unwrap(), cfg), &want), "hfft");
        } else {
            prop_assert!(fft::irfft(&zx, n, ax, norm).is_err(), "no data points");
        }
    }

    #[test]
    fn n_d_transforms_are_their_1_d_steps(
        shape in proptest::collection::vec(1usize..7, 2..4),
        cuts in proptest::collection::vec(1usize..4, 7),
        norm in any::<u8>(),
        seed in any::<u64>(),
    ) {
        let norm = norm_of(norm);
        let nd = shape.len();
        let (first, last) = (nd - 2, nd - 1);
        // fft2 transforms the last two axes: the others may be chunked.
        let chunks: Vec<Vec<usize>> = shape.iter().enumerate().map(|(a, &n)| if a >= first { vec![n] } else { cut(n, &cuts) }).collect();
        let z = complex_data(&shape, seed);
        let x = from_ndarray(z.clone(), chunks.clone()).unwrap();
        let step = |a: &ArrayD<C>, ax: usize, inv: bool| dft(a, ax, shape[ax], inv, scale(norm, shape[ax], inv));
        let want = step(&step(&z, last, false), first, false);
        prop_assert!(close_c(&compute(&fft::fft2(&x, None, None, norm).unwrap(), 1), &want), "fft2");
        let want = step(&step(&z, last, true), first, true);
        prop_assert!(close_c(&compute(&fft::ifft2(&x, None, None, norm).unwrap(), 1), &want), "ifft2");

        // Round trips through the real n-d transforms give the input back.
        let r = data(&shape, seed);
        let rx = from_ndarray(r.clone(), chunks).unwrap();
        let spec = fft::rfft2(&rx, None, None, norm).unwrap();
        let back = fft::irfft2(&spec, Some(&[shape[first], shape[last]]), None, norm).unwrap();
        prop_assert!(close_r(&compute(&back, 1), &r), "irfft2(rfft2(x))");
        // rfftn over every axis needs every axis whole.
        let whole = from_ndarray(r.clone(), shape.iter().map(|&n| vec![n]).collect::<Vec<_>>()).unwrap();
        let mut full = as_complex(&r);
        for (ax, &len) in shape.iter().enumerate() {
            full = dft(&full, ax, len, false, scale(norm, len, false));
        }
        let want = full.slice_axis(Axis(last), ndarray::Slice::from(0..shape[last] / 2 + 1)).to_owned();
        prop_assert!(close_c(&compute(&fft::rfftn(&whole, None, None, norm).unwrap(), 0), &want), "rfftn");
        let back = fft::ifftn(&fft::fftn(&whole, None, None, norm).unwrap(), None, None, norm).unwrap();
        prop_assert!(close_r(&real_part(&compute(&back, 0)), &r), "ifftn(fftn(x))");
    }

    #[test]
    fn shifts_roll_by_half(n in 1usize..14, cuts in proptest::collection::vec(1usize..5, 14), m in 1usize..4) {
        let a = ArrayD::from_shape_fn(IxDyn(&[m, n]), |i| (i[0] * 100 + i[1]) as i64);
        let x = from_ndarray(a.clone(), vec![vec![m], cut(n, &cuts)]).unwrap();
        let rolled = |k: usize| ArrayD::from_shape_fn(IxDyn(&[m, n]), |i| a[[i[0], (i[1] + n - k) % n]]);
        prop_assert_eq!(compute(&fft::fftshift(&x, Some(&[1])).unwrap(), 0), rolled(n / 2));
        prop_assert_eq!(compute(&fft::ifftshift(&x, Some(&[-1])).unwrap(), 0), rolled(n - n / 2));
        let both = fft::ifftshift(&fft::fftshift(&x, None).unwrap(), None).unwrap();
        prop_assert_eq!(compute(&both, 1), a);
    }

    #[test]
    fn complex_arithmetic_matches_plain_numbers(shape in proptest::collection::vec(1usize..7, 1..3), cuts in proptest::collection::vec(1usize..4, 7), seed in any::<u64>()) {
        let (a, b) = (complex_data(&shape, seed), complex_data(&shape, seed.wrapping_add(1)));
        let chunks: Vec<Vec<usize>> = shape.iter().map(|&n| cut(n, &cuts)).collect();
        let (x, y) = (from_ndarray(a.clone(), chunks.clone()).unwrap(), from_ndarray(b.clone(), chunks).unwrap());
        let plain = |f: fn(C, C) -> C| ndarray::Zip::from(&a).and(&b).map_collect(|&p, &q| f(p, q));
        prop_assert!(close_c(&compute(&(&x + &y), 1), &plain(|p, q| p + q)));
        prop_assert!(close_c(&compute(&(&x - &y), 1), &plain(|p, q| p - q)));
        prop_assert!(close_c(&compute(&(&x * &y), 1), &plain(|p, q| p * q)));
        prop_assert!(close_c(&compute(&(&x / &y), 1), &plain(|p, q| p / q)));
        prop_assert!(close_c(&compute(&(&x * C::new(0.0, 1.0)), 0), &a.mapv(|p| C::new(-p.im, p.re))));
        prop_assert!(close_c(&compute(&x.conj(), 0), &a.mapv(C::conj)));
        prop_assert!(close_c(&compute(&x.neg(), 0), &a.mapv(|p| -p)));
        prop_assert!(close_r(&compute(&x.abs(), 1), &a.mapv(|p| p.re.hypot(p.im))));
        prop_assert!(close_r(&compute(&x.angle(), 1), &a.mapv(|p| p.im.atan2(p.re))));
        prop_assert!(close_r(&compute(&x.real(), 1), &a.mapv(|p| p.re)));
        prop_assert!(close_r(&compute(&x.imag(), 1), &a.mapv(|p| p.im)));
        let total = a.iter().fold(C::default(), |s, &p| s + p);
        let got = compute(&x.sum(), 1).into_iter().next().unwrap();
        prop_assert!((got - total).norm() <= 1e-9 * (1.0 + total.norm()));
        let mean = compute(&x.mean(), 0).into_iter().next().unwrap();
        let n = a.len() as f64;
        prop_assert!((mean - C::new(total.re / n, total.im / n)).norm() <= 1e-9 * (1.0 + total.norm()));
        let sums = compute(&x.sum_with(&blockwork_array::ReduceOpts::axis(0)).unwrap(), 1);
        let want = a.map_axis(Axis(0), |l| l.iter().fold(C::default(), |s, &p| s + p));
        prop_assert!(close_c(&sums, &want));
        // Casts keep both parts between complex types, the real part to real types.
        let c64 = compute(&x.astype::<Complex<f32>>(), 0);
        prop_assert!(c64.iter().zip(&a).all(|(p, q)| (p.re as f64 - q.re).abs() < 1e-4 && (p.im as f64 - q.im).abs() < 1e-4));
        prop_assert!(close_r(&compute(&x.astype::<f64>(), 0), &a.mapv(|p| p.re)));
        let parts = complex(&x.real(), &x.imag()).unwrap();
        prop_assert!(close_c(&compute(&parts, 1), &a));
    }
}

#[test]
fn types_follow_numpy() {
    let x32 = from_ndarray(ArrayD::<f32>::zeros(IxDyn(&[4, 6])), vec![vec![2, 2], vec![6]]).unwrap();
    assert_eq!(fft::fft(&x32, None, -1, Norm::Backward).unwrap().dtype(), DType::C64);
    assert_eq!(
        fft::irfft(&fft::rfft(&x32, None, -1, Norm::Backward).unwrap(), None, -1, Norm::Backward).unwrap().dtype(),
        DType::F32
    );
    let xi = from_ndarray(ArrayD::<i64>::ones(IxDyn(&[8])), vec![vec![8]]).unwrap();
    let f = compute(&fft::fft(&xi, None, 0, Norm::Backward).unwrap(), 0);
    assert_eq!(f[[0]], C::new(8.0, 0.0));
    assert!(f.iter().skip(1).all(|z| z.norm() < 1e-12));
    assert_eq!(DType::C128.name(), "complex128");
    assert_eq!(DType::C64.itemsize(), 8);
}

#[test]
fn a_chunked_axis_is_refused_with_the_rechunk_to_do() {
    let x = from_ndarray(ArrayD::<f64>::zeros(IxDyn(&[10, 4])), vec![vec![5, 5], vec![4]]).unwrap();
    let e = fft::fft(&x, None, 0, Norm::Backward).unwrap_err().to_string();
    assert!(e.contains("axis 0") && e.contains("2 chunks") && e.contains("rechunk({0: -1})"), "{e}");
    assert!(fft::fft(&x, None, 1, Norm::Backward).is_ok(), "the other axis is one chunk");
    let e = fft::fft2(&x, None, None, Norm::Backward).unwrap_err().to_string();
    assert!(e.contains("rechunk"), "{e}");
    let e = fft::fft(&x, Some(0), 1, Norm::Backward).unwrap_err().to_string();
    assert!(e.contains("invalid number of data points (0)"), "{e}");
    let e = Norm::parse(Some("both")).unwrap_err().to_string();
    assert!(e.contains("\"ortho\""), "{e}");
    assert!(fft::fft(&x, None, 2, Norm::Backward).unwrap_err().to_string().contains("out of bounds"));
    let e = fft::fftn(&x, None, Some(&[1, -1]), Norm::Backward).unwrap_err().to_string();
    assert!(e.contains("repeated"), "{e}");
}

#[test]
fn frequencies_match_numpy() {
    let f = compute(&fft::fftfreq(5, 0.5, 2).unwrap(), 0);
    let want = [0.0, 1.0, 2.0, -2.0, -1.0].map(|v| v / 2.5);
    assert!(f.iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-15), "{f}");
    let f = compute(&fft::fftfreq(4, 1.0, 3).unwrap(), 1);
    assert_eq!(f.into_raw_vec_and_offset().0, vec![0.0, 0.25, -0.5, -0.25]);
    let f = compute(&fft::rfftfreq(5, 1.0, 2).unwrap(), 0);
    assert_eq!(f.into_raw_vec_and_offset().0, vec![0.0, 0.2, 0.4]);
}

#[test]
fn complex_blocks_cross_the_wire() {
    blockwork_array::register_codecs();
    let z = complex_data(&[3, 4], 7);
    let codec = blockwork_graph::codec("complex128 block").expect("complex blocks have a codec");
    let (meta, buffers) = (codec.encode)(&blockwork_array::Block::Dense(z.clone())).unwrap();
    let back = (codec.decode)(&meta, buffers).unwrap();
    assert_eq!(blockwork_array::block_of::<C>(&back).unwrap().view().into_owned(), z);
    let one = Complex::new(1.5f32, -2.0);
    let (meta, buffers) =
        (codec_of::<Complex<f32>>().encode)(&blockwork_array::Block::Const { value: one, shape: vec![2] }).unwrap();
    let back = (codec_of::<Complex<f32>>().decode)(&meta, buffers).unwrap();
    assert!(
        matches!(blockwork_array::block_of::<Complex<f32>>(&back).unwrap(), blockwork_array::Block::Const { value, .. } if *value == one)
    );
}

fn codec_of<T: Element>() -> blockwork_graph::Codec {
    blockwork_graph::codec(&format!("{} block", T::DTYPE)).unwrap()
}
