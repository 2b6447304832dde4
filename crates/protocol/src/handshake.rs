//! The handshake: the first frame each way on every connection.
//!
//! The side that connects sends [`Hello`]; the side that accepts answers
//! [`Welcome`] or [`Refused`], and after a refusal both close. The three
//! frames are frozen across protocol versions (their kinds and metadata
//! never change, and decoders accept them at any header version), so a
//! version mismatch is always explained, on both sides, in words that
//! name both versions.
//!
//! [`Acceptor::answer`] is the whole decision, sans IO: it checks the
//! protocol version, the blockwork release, the role, the token and then
//! the parameter layouts of the named functions both sides registered, in
//! that order. Peers of one release built from different sources (a
//! kernel's parameters changed in between) are refused there, naming the
//! function and both layouts, before one misreads the other's tasks.
//! Functions registered on one side only are not compared: a task that
//! needs one the other side lacks fails with an error that says so.
//!
//! Fields are only ever appended: the release (version 6) follows the
//! frozen fields, then the hello's registered functions (a count, then
//! name and layout of each), and a decoder reads what it knows and
//! ignores what follows, so later versions may add more.

use crate::error::ProtocolError;
use crate::frame::Frame;
use crate::kind::{Direction, Kind};
use crate::wire::{Reader, Writer};
use crate::PROTOCOL_VERSION;
use blockwork_graph::registry_layouts;

/// The blockwork release this build is (every crate of the workspace
/// shares one version).
pub const RELEASE: &str = env!("CARGO_PKG_VERSION");

/// What a peer is.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Role {
    /// A client submitting graphs.
    Client,
    /// A worker running tasks.
    Worker,
    /// The scheduler.
    Scheduler,
}

impl Role {
    fn to_u8(self) -> u8 {
        match self {
            Role::Client => 1,
            Role::Worker => 2,
            Role::Scheduler => 3,
        }
    }

    fn from_u8(x: u8) -> Result<Role, ProtocolError> {
        match x {
            1 => Ok(Role::Client),
            2 => Ok(Role::Worker),
            3 => Ok(Role::Scheduler),
            x => Err(ProtocolError::Invalid { field: "role", value: u64::from(x) }),
        }
    }

    /// Its name in messages.
    pub fn name(self) -> &'static str {
        match self {
            Role::Client => "client",
            Role::Worker => "worker",
            Role::Scheduler => "scheduler",
        }
    }
}

/// The connecting side's first frame.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Hello {
    /// What the connecting side is.
    pub role: Role,
    /// The protocol version it speaks.
    pub version: u16,
    /// A name for logs and error messages (a host name, a worker's address).
    pub name: String,
    /// The shared secret, if the cluster is configured with one.
    pub token: Option<String>,
    /// The blockwork release it runs (empty from peers of protocol
    /// version 5 and older, which did not send it).
    pub release: String,
    /// The named functions registered in its process and the layouts of
    /// their parameters (`blockwork_graph::registry_layouts`), sorted by
    /// name; empty from peers that did not send them.
    pub functions: Vec<(String, String)>,
}

impl Hello {
    /// A hello of this process's version, release and registered functions.
    pub fn new(role: Role, name: impl Into<String>, token: Option<String>) -> Hello {
        Hello {
            role,
            version: PROTOCOL_VERSION,
            name: name.into(),
            token,
            release: RELEASE.into(),
            functions: registry_layouts().into_iter().map(|(n, l)| (n.to_string(), l.to_string())).collect(),
        }
    }
}

/// The accepting side's answer when the connection may proceed.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Welcome {
    /// What the accepting side is.
    pub role: Role,
    /// The protocol version it speaks (equal to the hello's).
    pub version: u16,
    /// Its name.
    pub name: String,
    /// The blockwork release it runs (equal to the hello's).
    pub release: String,
}

/// The accepting side's answer when it will not talk; both sides close.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Refused {
    /// Why, in words for both sides' logs.
    pub reason: String,
}

/// One handshake frame.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Handshake {
    /// Sent by the connecting side.
    Hello(Hello),
    /// The connection may proceed.
    Welcome(Welcome),
    /// It may not.
    Refused(Refused),
}

impl Handshake {
    /// Its frame.
    pub fn to_frame(&self) -> Frame {
        let mut w = Writer::default();
        let kind = match self {
            Handshake::Hello(h) => {
                w.u8(h.role.to_u8());
                w.meta.extend_from_slice(&h.version.to_le_bytes());
                w.str(&h.name);
                w.opt_str(h.token.as_deref());
                w.str(&h.release);
                w.len(h.functions.len());
                for (name, layout) in &h.functions {
                    w.str(name);
                    w.str(layout);
                }
                Kind::Hello
            }
            Handshake::Welcome(h) => {
                w.u8(h.role.to_u8());
                w.meta.extend_from_slice(&h.version.to_le_bytes());
                w.str(&h.name);
                w.str(&h.release);
                Kind::Welcome
            }
            Handshake::Refused(r) => {
                w.str(&r.reason);
                Kind::Refused
            }
        };
        Frame::new(kind, w.meta, w.buffers)
    }

    /// Reads a handshake frame; any other kind is an error.
    pub fn from_frame(frame: Frame) -> Result<Handshake, ProtocolError> {
        frame.expect(Direction::Handshake)?;
        let mut r = Reader::new(&frame.meta, frame.buffers);
        let version = |r: &mut Reader<'_>| -> Result<u16, ProtocolError> {
            let b = r.take(2, "version")?;
            Ok(u16::from_le_bytes([b[0], b[1]]))
        };
        // Fields appended by later versions: read when present; what a
        // newer peer appends beyond them is not read.
        let release = |r: &mut Reader<'_>| -> Result<String, ProtocolError> {
            if r.remaining() == 0 {
                return Ok(String::new());
            }
            r.string("release")
        };
        let functions = |r: &mut Reader<'_>| -> Result<Vec<(String, String)>, ProtocolError> {
            if r.remaining() == 0 {
                return Ok(Vec::new());
            }
            let n = r.count("functions")?;
            (0..n).map(|_| Ok((r.string("function name")?, r.string("function layout")?))).collect()
        };
        let h = match frame.kind {
            Kind::Hello => Handshake::Hello(Hello {
                role: Role::from_u8(r.u8("role")?)?,
                version: version(&mut r)?,
                name: r.string("name")?,
                token: r.opt_string("token")?,
                release: release(&mut r)?,
                functions: functions(&mut r)?,
            }),
            Kind::Welcome => Handshake::Welcome(Welcome {
                role: Role::from_u8(r.u8("role")?)?,
                version: version(&mut r)?,
                name: r.string("name")?,
                release: release(&mut r)?,
            }),
            _ => Handshake::Refused(Refused { reason: r.string("reason")? }),
        };
        r.finish_appendable(frame.kind.name())?;
        Ok(h)
    }
}

/// The accepting side's settings: who it is, whom it lets in.
#[derive(Clone, Debug)]
pub struct Acceptor {
    /// What this side is.
    pub role: Role,
    /// Its name, sent in the welcome.
    pub name: String,
    /// The version it speaks.
    pub version: u16,
    /// The blockwork release it runs.
    pub release: String,
    /// The shared secret required of peers, if any.
    pub token: Option<String>,
    /// The roles it accepts connections from.
    pub accepts: Vec<Role>,
}

impl Acceptor {
    /// An acceptor of this process's version, with no token.
    pub fn new(role: Role, name: impl Into<String>, accepts: &[Role]) -> Acceptor {
        Acceptor {
            role,
            name: name.into(),
            version: PROTOCOL_VERSION,
            release: RELEASE.into(),
            token: None,
            accepts: accepts.to_vec(),
        }
    }

    /// Requires this token of every peer.
    pub fn with_token(mut self, token: impl Into<String>) -> Acceptor {
        self.token = Some(token.into());
        self
    }

    /// Decides on a hello: a welcome, or a refusal that says why.
    pub fn answer(&self, hello: &Hello) -> Result<Welcome, Refused> {
        let me = self.role.name();
        let peer = format!("{} {:?}", hello.role.name(), hello.name);
        if hello.version != self.version {
            return Err(Refused {
                reason: format!(
                    "protocol version mismatch: the {peer} speaks version {}, the {me} {:?} speaks version {}; \
                     run the same blockwork release on both",
                    hello.version, self.name, self.version
                ),
            });
        }
        if hello.release != self.release {
            // Kernels and their parameters may differ between releases,
            // even where the wire format does not.
            return Err(Refused {
                reason: format!(
                    "blockwork release mismatch: the {peer} runs blockwork {}, the {me} {:?} runs blockwork {}; \
                     run the same blockwork release on both",
                    shown_release(&hello.release),
                    self.name,
                    self.release
                ),
            });
        }
        if !self.accepts.contains(&hello.role) {
            return Err(Refused {
                reason: format!("the {me} {:?} does not accept connections from a {}", self.name, hello.role.name()),
            });
        }
        if let Some(want) = &self.token {
            match &hello.token {
                None => {
                    return Err(Refused {
                        reason: format!("the {me} {:?} requires a token and the {peer} sent none", self.name),
                    })
                }
                Some(got) if !same_secret(got, want) => {
                    return Err(Refused {
                        reason: format!("the {peer} sent a wrong token to the {me} {:?}", self.name),
                    })
                }
                Some(_) => {}
            }
        }
        if let Some(reason) = self.layouts_differ(hello, &peer) {
            return Err(Refused { reason });
        }
        Ok(Welcome { role: self.role, version: self.version, name: self.name.clone(), release: self.release.clone() })
    }

    /// Why the peer cannot run this process's tasks (or this process the
    /// peer's), if a function registered on both sides takes parameters
    /// of different layouts: the two were built from different sources.
    fn layouts_differ(&self, hello: &Hello, peer: &str) -> Option<String> {
        let ours = registry_layouts();
        for (name, theirs) in &hello.functions {
            let Ok(i) = ours.binary_search_by(|(n, _)| (*n).cmp(name.as_str())) else { continue };
            let mine = &ours[i].1;
            if mine != theirs {
                let shown = |l: &str| if l.is_empty() { "undeclared parameters".to_string() } else { l.to_string() };
                return Some(format!(
                    "the {peer} runs blockwork {} and the {} {:?} blockwork {}, built from different sources: \
                     the function {name:?} takes {} there and {} here; build both from one source",
                    shown_release(&hello.release),
                    self.role.name(),
                    self.name,
                    self.release,
                    shown(theirs),
                    shown(mine),
                ));
            }
        }
        None
    }

    /// Reads the first frame of a connection and decides: the hello and
    /// the answer to send (send it in both cases; close after a refusal).
    /// A frame that is not a hello is an error: close without answering.
    pub fn on_first_frame(&self, frame: Frame) -> Result<(Hello, Result<Welcome, Refused>), ProtocolError> {
        match Handshake::from_frame(frame)? {
            Handshake::Hello(h) => {
                let answer = self.answer(&h);
                Ok((h, answer))
            }
            other => Err(ProtocolError::UnexpectedKind { kind: other.to_frame().kind.name(), expected: "a hello" }),
        }
    }
}

/// The connecting side reads the answer to its hello: a welcome, or the
/// refusal to show the user. Anything else is an error.
pub fn read_answer(frame: Frame) -> Result<Result<Welcome, Refused>, ProtocolError> {
    match Handshake::from_frame(frame)? {
        Handshake::Welcome(w) => Ok(Ok(w)),
        Handshake::Refused(r) => Ok(Err(r)),
        Handshake::Hello(_) => {
            Err(ProtocolError::UnexpectedKind { kind: Kind::Hello.name(), expected: "a welcome or a refusal" })
        }
    }
}

/// A release as a peer reported it ("an unknown release" when it sent none).
fn shown_release(r: &str) -> &str {
    if r.is_empty() {
        "an unknown release"
    } else {
        r
    }
}

/// Compares secrets in time independent of where they differ.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::{encode_frame, FrameDecoder};

    fn scheduler() -> Acceptor {
        Acceptor::new(Role::Scheduler, "sched-1", &[Role::Client, Role::Worker]).with_token("s3cret")
    }

    fn over_the_wire(h: &Handshake) -> Handshake {
        let bytes = encode_frame(h.to_frame()).unwrap().to_vec();
        let mut d = FrameDecoder::default();
        d.push(&bytes).unwrap();
        Handshake::from_frame(d.next_frame().unwrap()).unwrap()
    }

    #[test]
    fn every_handshake_frame_round_trips() {
        for h in [
            Handshake::Hello(Hello::new(Role::Worker, "tcp://10.0.0.7:4000", Some("t".into()))),
            Handshake::Hello(Hello::new(Role::Client, "", None)),
            Handshake::Welcome(Welcome {
                role: Role::Scheduler,
                version: 3,
                name: "s".into(),
                release: "0.9.1".into(),
            }),
            Handshake::Refused(Refused { reason: "no".into() }),
        ] {
            assert_eq!(over_the_wire(&h), h);
        }
    }

    /// The bytes of the README. Only the version fields change from one
    /// version to the next, and fields are only appended: peers of every
    /// version read the rest.
    #[test]
    fn handshake_bytes_are_frozen() {
        let hello = Handshake::Hello(Hello {
            role: Role::Client,
            version: 7,
            name: "alice".into(),
            token: Some("s3cret".into()),
            release: "0.1.0".into(),
            functions: vec![("f".into(), "P { x: i64 }".into())],
        });
        let mut want = b"BWRK\x07\x00\x01\x00\x27\x00\x00\x00\x00\x00\x00\x00".to_vec();
        want.extend_from_slice(b"\x01\x07\x00\x05alice\x01\x06s3cret\x050.1.0\x01\x01f\x0cP { x: i64 }");
        assert_eq!(encode_frame(hello.to_frame()).unwrap().to_vec(), want);
        let welcome = Handshake::Welcome(Welcome {
            role: Role::Scheduler,
            version: 7,
            name: "sched-1".into(),
            release: "0.1.0".into(),
        });
        let mut want = b"BWRK\x07\x00\x02\x00\x11\x00\x00\x00\x00\x00\x00\x00".to_vec();
        want.extend_from_slice(b"\x03\x07\x00\x07sched-1\x050.1.0");
        assert_eq!(encode_frame(welcome.to_frame()).unwrap().to_vec(), want);
        let refused = Handshake::Refused(Refused { reason: "no".into() });
        let mut want = b"BWRK\x07\x00\x03\x00\x03\x00\x00\x00\x00\x00\x00\x00".to_vec();
        want.extend_from_slice(b"\x02no");
        assert_eq!(encode_frame(refused.to_frame()).unwrap().to_vec(), want);
    }

    #[test]
    fn older_hellos_decode_and_newer_fields_are_skipped() {
        // A version-5 hello (no release) decodes, and is refused by version.
        let mut old = b"BWRK\x05\x00\x01\x00\x11\x00\x00\x00\x00\x00\x00\x00".to_vec();
        old.extend_from_slice(b"\x01\x05\x00\x05alice\x01\x06s3cret");
        let mut d = FrameDecoder::default();
        d.push(&old).unwrap();
        let Handshake::Hello(h) = Handshake::from_frame(d.next_frame().unwrap()).unwrap() else { panic!() };
        assert_eq!((h.version, h.release.as_str()), (5, ""));
        assert!(scheduler().answer(&h).unwrap_err().reason.contains("version 5"));
        // What a later version appends after the functions is not read.
        // One hello, compared with itself: `Hello::new` lists the registry's
        // functions, which another test may add to meanwhile.
        let hello = Hello::new(Role::Client, "bob", Some("s3cret".into()));
        let mut newer = Handshake::Hello(hello.clone()).to_frame();
        newer.meta.extend_from_slice(b"\x03xyz");
        assert_eq!(Handshake::from_frame(newer).unwrap(), Handshake::Hello(hello));
    }

    #[test]
    fn a_release_mismatch_names_both_releases() {
        let mut hello = Hello::new(Role::Worker, "w1", Some("s3cret".into()));
        hello.release = "0.0.9".into();
        let r = scheduler().answer(&hello).unwrap_err();
        assert!(
            r.reason.contains("blockwork 0.0.9") && r.reason.contains(&format!("blockwork {RELEASE}")),
            "{}",
            r.reason
        );
        assert!(r.reason.contains("worker \"w1\"") && r.reason.contains("\"sched-1\""), "{}", r.reason);
        hello.release.clear();
        assert!(scheduler().answer(&hello).unwrap_err().reason.contains("an unknown release"));
    }

    blockwork_graph::kernel_params! {
        /// Parameters of the test function, as this build declares them.
        struct Shift {
            /// By how much.
            by: i64,
        }
    }

    fn shift(_: &blockwork_graph::Value, _: Vec<blockwork_graph::Value>) -> blockwork_graph::TaskResult {
        Ok(blockwork_graph::Value::Unit)
    }

    static SHIFT: blockwork_graph::NamedFn = blockwork_graph::NamedFn::new("test.shift", shift).params::<Shift>();

    #[test]
    fn peers_built_with_other_parameters_are_refused_naming_the_function() {
        blockwork_graph::register(&SHIFT);
        let hello = Hello::new(Role::Worker, "w1", Some("s3cret".into()));
        assert!(hello.functions.contains(&("test.shift".into(), "Shift { by: i64 }".into())), "{:?}", hello.functions);
        assert!(scheduler().answer(&over_the_wire_hello(&hello)).is_ok(), "same layouts");
        let mut other = hello.clone();
        for (name, layout) in &mut other.functions {
            if name == "test.shift" {
                *layout = "Shift { by: i64, wrap: bool }".into();
            }
        }
        let r = scheduler().answer(&other).unwrap_err().reason;
        for part in ["\"test.shift\"", "Shift { by: i64, wrap: bool } there", "Shift { by: i64 } here", "worker \"w1\""]
        {
            assert!(r.contains(part), "{part} in {r}");
        }
        assert!(r.contains(&format!("blockwork {RELEASE}")), "{r}");
        // A function only the peer has is not compared.
        other.functions = vec![("elsewhere.only".into(), "X { y: f64 }".into())];
        assert!(scheduler().answer(&other).is_ok());
        // Nor is anything before the token is checked.
        other.functions = vec![("test.shift".into(), "Shift { by: f64 }".into())];
        other.token = None;
        assert!(scheduler().answer(&other).unwrap_err().reason.contains("requires a token"));
    }

    fn over_the_wire_hello(h: &Hello) -> Hello {
        match over_the_wire(&Handshake::Hello(h.clone())) {
            Handshake::Hello(h) => h,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_right_token_is_welcome() {
        let w = scheduler().answer(&Hello::new(Role::Client, "alice", Some("s3cret".into()))).unwrap();
        assert_eq!(
            w,
            Welcome {
                role: Role::Scheduler,
                version: PROTOCOL_VERSION,
                name: "sched-1".into(),
                release: RELEASE.into()
            }
        );
    }

    #[test]
    fn a_version_mismatch_names_both_versions_and_crosses_versions() {
        let mut hello = Hello::new(Role::Client, "alice", Some("s3cret".into()));
        hello.version = PROTOCOL_VERSION + 1;
        let refused = scheduler().answer(&hello).unwrap_err();
        let v_new = format!("version {}", PROTOCOL_VERSION + 1);
        let v_old = format!("version {PROTOCOL_VERSION}");
        assert!(refused.reason.contains(&v_new) && refused.reason.contains(&v_old), "{}", refused.reason);
        // The newer side can read the older side's refusal.
        let bytes = encode_frame(Handshake::Refused(refused.clone()).to_frame()).unwrap().to_vec();
        let mut newer = FrameDecoder::with_version(Default::default(), PROTOCOL_VERSION + 1);
        newer.push(&bytes).unwrap();
        assert_eq!(read_answer(newer.next_frame().unwrap()).unwrap(), Err(refused));
    }

    #[test]
    fn missing_and_wrong_tokens_are_refused_without_echoing_them() {
        let r = scheduler().answer(&Hello::new(Role::Worker, "w1", None)).unwrap_err();
        assert!(r.reason.contains("requires a token"), "{}", r.reason);
        let r = scheduler().answer(&Hello::new(Role::Worker, "w1", Some("guess".into()))).unwrap_err();
        assert!(r.reason.contains("wrong token") && !r.reason.contains("guess") && !r.reason.contains("s3cret"));
        // No token configured: any token is fine.
        let open = Acceptor::new(Role::Scheduler, "s", &[Role::Worker]);
        assert!(open.answer(&Hello::new(Role::Worker, "w1", Some("x".into()))).is_ok());
    }

    #[test]
    fn roles_not_accepted_are_refused() {
        let r = scheduler().answer(&Hello::new(Role::Scheduler, "other", Some("s3cret".into()))).unwrap_err();
        assert!(r.reason.contains("does not accept connections from a scheduler"), "{}", r.reason);
    }

    #[test]
    fn the_first_frame_must_be_a_hello() {
        let a = scheduler();
        let f = Handshake::Refused(Refused { reason: "x".into() }).to_frame();
        assert!(matches!(a.on_first_frame(f), Err(ProtocolError::UnexpectedKind { .. })));
        let f = Handshake::Hello(Hello::new(Role::Client, "c", Some("s3cret".into()))).to_frame();
        assert!(a.on_first_frame(f).unwrap().1.is_ok());
        let not_handshake = Frame::new(Kind::Busy, vec![], vec![]);
        assert!(a.on_first_frame(not_handshake).is_err());
    }
}
