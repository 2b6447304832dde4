//! Hostile and broken input: random bytes, truncated frames, oversized
//! length fields, unknown kinds and corrupted frames never panic, and end
//! in errors where the bytes cannot be right.

mod common;

use blockwork_graph::Key;
use blockwork_protocol::{
    decode_task, ClientToScheduler, Frame, FrameDecoder, Handshake, Hello, Kind, Limits, Message, PeerMessage,
    ProtocolError, FIXED_HEADER, MAGIC, PROTOCOL_VERSION,
};
use common::*;
use proptest::prelude::*;

/// Pushes bytes in the given chunk sizes; the frames decoded, or the error.
fn decode_stream(d: &mut FrameDecoder, bytes: &[u8], chunks: &[usize]) -> Result<Vec<Frame>, ProtocolError> {
    let mut out = Vec::new();
    let mut rest = bytes;
    let mut sizes = chunks.iter().copied().cycle();
    while !rest.is_empty() {
        let n = sizes.next().unwrap_or(1).clamp(1, rest.len());
        d.push(&rest[..n])?;
        rest = &rest[n..];
        while let Some(f) = d.next_frame() {
            out.push(f);
        }
    }
    Ok(out)
}

fn header(kind: u16, meta_len: u32, lens: &[u64]) -> Vec<u8> {
    let mut h = Vec::new();
    h.extend_from_slice(&MAGIC);
    h.extend_from_slice(&PROTOCOL_VERSION.to_le_bytes());
    h.extend_from_slice(&kind.to_le_bytes());
    h.extend_from_slice(&meta_len.to_le_bytes());
    h.extend_from_slice(&(lens.len() as u32).to_le_bytes());
    for l in lens {
        h.extend_from_slice(&l.to_le_bytes());
    }
    h
}

#[test]
fn a_connection_fed_garbage_is_dropped_while_another_goes_on() {
    let frames = all_frames();
    let mut good = FrameDecoder::default();
    let mut bad = FrameDecoder::default();
    let mut got = Vec::new();
    for f in &frames {
        assert!(bad.push(b"GET / HTTP/1.1\r\n").is_err());
        good.push(&bytes_of(f)).unwrap();
        got.extend(std::iter::from_fn(|| good.next_frame()));
    }
    drop(bad);
    assert_eq!(got, frames);
}

#[test]
fn a_stream_that_ends_inside_a_frame_is_noticed() {
    let bytes = bytes_of(&all_frames()[5]);
    for cut in 1..bytes.len() {
        let mut d = FrameDecoder::default();
        d.push(&bytes[..cut]).unwrap();
        assert!(d.next_frame().is_none());
        assert!(d.is_mid_frame(), "cut at {cut}");
    }
}

#[test]
fn every_truncated_or_extended_metadata_is_an_error() {
    for f in all_frames() {
        // A hello or welcome is read without the release a version-5 peer
        // did not send, a hello without the functions earlier peers did
        // not send; a handshake frame with the fields a later version
        // appends.
        let with_release = matches!(f.kind, Kind::Hello | Kind::Welcome);
        let appendable = with_release || f.kind == Kind::Refused;
        let functions = match Handshake::from_frame(f.clone()) {
            Ok(Handshake::Hello(h)) => {
                let bare = Handshake::Hello(Hello { functions: vec![], ..h }).to_frame();
                f.meta.len() - (bare.meta.len() - 1)
            }
            _ => 0,
        };
        let before_release =
            if with_release { f.meta.len() - functions - 1 - blockwork_protocol::RELEASE.len() } else { usize::MAX };
        let before_functions = if functions > 0 { f.meta.len() - functions } else { usize::MAX };
        for cut in 0..f.meta.len() {
            if cut == before_release || cut == before_functions {
                continue;
            }
            let mut g = f.clone();
            g.meta.truncate(cut);
            assert!(!decode_any(&g), "{:?} cut to {cut} bytes decoded", f.kind);
        }
        let mut g = f.clone();
        g.meta.push(0);
        assert_eq!(decode_any(&g), appendable, "{:?} with a trailing byte", f.kind);
        let mut g = f.clone();
        g.buffers.push(vec![1u8; 3].into());
        assert!(!decode_any(&g), "{:?} with an extra buffer decoded", f.kind);
        if !f.buffers.is_empty() {
            let mut g = f.clone();
            g.buffers.pop();
            assert!(!decode_any(&g), "{:?} missing a buffer decoded", f.kind);
        }
    }
}

#[test]
fn every_single_byte_change_of_the_fixed_header_is_caught_or_harmless() {
    // Each byte of the magic and the version, and most kind values, must
    // be refused outright.
    let bytes = bytes_of(&PeerMessage::Busy.to_frame().unwrap());
    for i in 0..6 {
        for x in 0..=255u8 {
            if x == bytes[i] {
                continue;
            }
            let mut b = bytes.clone();
            b[i] = x;
            assert!(FrameDecoder::default().push(&b).is_err(), "byte {i} = {x} accepted");
        }
    }
}

#[test]
fn corrupt_task_payloads_are_errors_or_valid_tasks() {
    setup();
    let p = blockwork_protocol::encode_task(&Key::new("t"), &sample_task()).unwrap();
    for i in 0..p.len().min(400) {
        for x in [0u8, 1, 0x7f, 0x80, 0xff] {
            let mut b = p.to_vec();
            b[i] ^= x;
            let _ = decode_task(&Key::new("t"), &b);
        }
    }
}

proptest! {
    // 256 cases by default; PROPTEST_CASES=100000 for a long run.
    #![proptest_config(ProptestConfig::default())]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600), chunks in prop::collection::vec(1usize..50, 1..5)) {
        let mut d = FrameDecoder::default();
        if let Ok(frames) = decode_stream(&mut d, &bytes, &chunks) {
            for f in &frames {
                decode_any(f);
            }
        }
        let _ = decode_task(&Key::new("t"), &bytes);
    }

    #[test]
    fn random_bodies_behind_valid_headers_never_panic(
        kind in prop::sample::select(Kind::ALL.to_vec()),
        meta in prop::collection::vec(any::<u8>(), 0..300),
        bufs in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..40), 0..4),
    ) {
        setup();
        let f = Frame::new(kind, meta, bufs.into_iter().map(Into::into).collect());
        let mut d = FrameDecoder::default();
        d.push(&bytes_of(&f)).unwrap();
        let got = d.next_frame().unwrap();
        prop_assert_eq!(&got, &f);
        decode_any(&got);
    }

    #[test]
    fn single_byte_corruptions_never_panic_and_what_decodes_is_consistent(
        which in any::<prop::sample::Index>(),
        at in any::<prop::sample::Index>(),
        x in 1u8..=255,
    ) {
        setup();
        let frames = all_frames();
        let f = &frames[which.index(frames.len())];
        let mut bytes = bytes_of(f);
        let i = at.index(bytes.len());
        bytes[i] ^= x;
        let mut d = FrameDecoder::default();
        match d.push(&bytes) {
            Err(_) => prop_assert!(i < FIXED_HEADER + 8 * f.buffers.len(), "an error past the header at {}", i),
            Ok(()) => {
                if let Some(g) = d.next_frame() {
                    // Whatever still decodes must encode back to itself.
                    if let Ok(m) = ClientToScheduler::from_frame(g.clone()) {
                        prop_assert_eq!(through_bytes(&m), m);
                    }
                    if let Ok(m) = PeerMessage::from_frame(g.clone()) {
                        prop_assert_eq!(&format!("{:?}", through_bytes(&m)), &format!("{m:?}"));
                    }
                    decode_any(&g);
                } else {
                    // A corrupted length left the decoder waiting for more.
                    prop_assert!(d.is_mid_frame());
                }
            }
        }
    }

    #[test]
    fn oversized_length_fields_are_refused_by_name(
        meta_len in (256u32 << 20) + 1..,
        nbufs in (1u32 << 20) + 1..,
        buf_len in (4u64 << 30) + 1..,
    ) {
        let limits = Limits::default();
        let mut b = header(Kind::Busy.to_u16(), meta_len, &[]);
        let e = FrameDecoder::new(limits).push(&b).unwrap_err();
        prop_assert_eq!(e, ProtocolError::TooLarge { field: "metadata length", value: u64::from(meta_len), limit: u64::from(limits.max_meta) });

        b = header(Kind::Busy.to_u16(), 0, &[]);
        b[12..16].copy_from_slice(&nbufs.to_le_bytes());
        let e = FrameDecoder::new(limits).push(&b).unwrap_err();
        prop_assert_eq!(e, ProtocolError::TooLarge { field: "buffer count", value: u64::from(nbufs), limit: u64::from(limits.max_buffers) });

        b = header(Kind::Data.to_u16(), 0, &[buf_len]);
        let e = FrameDecoder::new(limits).push(&b).unwrap_err();
        prop_assert_eq!(e, ProtocolError::TooLarge { field: "buffer length", value: buf_len, limit: limits.max_buffer });
    }

    #[test]
    fn unknown_kinds_are_refused_by_number(kind in any::<u16>().prop_filter("unknown", |k| Kind::from_u16(*k).is_none())) {
        let e = FrameDecoder::default().push(&header(kind, 0, &[])).unwrap_err();
        prop_assert_eq!(e, ProtocolError::UnknownKind { kind });
    }

    #[test]
    fn small_limits_hold_for_any_input(bytes in prop::collection::vec(any::<u8>(), 0..2000)) {
        // With tiny limits, a stream of frames claiming more is refused
        // before the claimed bytes are awaited.
        let limits = Limits { max_meta: 8, max_buffer: 8, max_buffers: 2, max_frame: 12 };
        let mut stream = header(Kind::Data.to_u16(), 4, &[8, 4]);
        stream.extend_from_slice(&bytes);
        let mut d = FrameDecoder::new(limits);
        if let Ok(frames) = decode_stream(&mut d, &stream, &[3]) {
            for f in frames {
                prop_assert!(f.meta.len() <= 8 && f.buffers.len() <= 2);
                prop_assert!(f.buffers.iter().map(|b| b.len()).sum::<usize>() <= 12);
            }
        }
    }
}
