//! Frames over a TCP stream: reading into a [`FrameDecoder`], writing
//! the chunks of an [`EncodedFrame`], and the handshake from both sides.
//!
//! A connection is split in two: the read half stays with the task that
//! decodes and routes; the write half goes to a writer task fed by a
//! channel of encoded frames, so that a state machine's loop never waits
//! on a slow socket.

use blockwork_protocol::{
    read_answer, Acceptor, EncodedFrame, Frame, FrameDecoder, Handshake, Hello, Limits, Message, Role, Welcome,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufWriter};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

use crate::error::ConnError;

/// The read side of a connection: bytes in, frames out.
pub(crate) struct FrameReader {
    read: OwnedReadHalf,
    decoder: FrameDecoder,
    buf: Vec<u8>,
}

impl FrameReader {
    pub(crate) fn new(read: OwnedReadHalf) -> Self {
        FrameReader { read, decoder: FrameDecoder::new(Limits::default()), buf: vec![0; 64 * 1024] }
    }

    /// The next frame; `None` when the peer closed between frames.
    pub(crate) async fn next(&mut self) -> Result<Option<Frame>, ConnError> {
        loop {
            if let Some(f) = self.decoder.next_frame() {
                return Ok(Some(f));
            }
            let n = self.read.read(&mut self.buf).await?;
            if n == 0 {
                return if self.decoder.is_mid_frame() { Err(ConnError::ClosedMidFrame) } else { Ok(None) };
            }
            self.decoder.push(&self.buf[..n])?;
        }
    }

    /// The next frame, which must be there.
    pub(crate) async fn expect(&mut self, what: &'static str) -> Result<Frame, ConnError> {
        self.next().await?.ok_or(ConnError::Closed(what))
    }

    /// The next message of type `M`, which must be there.
    pub(crate) async fn message<M: Message>(&mut self, what: &'static str) -> Result<M, ConnError> {
        Ok(M::from_frame(self.expect(what).await?)?)
    }
}

/// Writes one encoded frame.
pub(crate) async fn write_frame(w: &mut (impl AsyncWriteExt + Unpin), f: &EncodedFrame) -> std::io::Result<()> {
    for chunk in f.chunks() {
        w.write_all(chunk).await?;
    }
    Ok(())
}

/// Encodes and writes one message, then flushes.
pub(crate) async fn send(w: &mut (impl AsyncWriteExt + Unpin), msg: &impl Message) -> Result<(), ConnError> {
    write_frame(w, &msg.encode()?).await?;
    w.flush().await?;
    Ok(())
}

/// Where a writer task takes its frames from.
pub(crate) type Outbox = mpsc::UnboundedSender<EncodedFrame>;

/// Spawns the writer task of a connection: it writes every frame sent on
/// the returned channel, batching what is queued before flushing, and
/// ends (closing the write side) when the channel closes or a write fails.
pub(crate) fn spawn_writer(write: OwnedWriteHalf, peer: String) -> (Outbox, tokio::task::JoinHandle<()>) {
    let (tx, mut rx) = mpsc::unbounded_channel::<EncodedFrame>();
    let task = tokio::spawn(async move {
        let mut w = BufWriter::with_capacity(64 * 1024, write);
        while let Some(f) = rx.recv().await {
            let mut res = write_frame(&mut w, &f).await;
            while res.is_ok() {
                match rx.try_recv() {
                    Ok(f) => res = write_frame(&mut w, &f).await,
                    Err(_) => break,
                }
            }
            if let Err(e) = res.and(w.flush().await) {
                crate::log(format_args!("writing to {peer} failed: {e}; closing the connection"));
                return;
            }
        }
        let _ = w.shutdown().await;
    });
    (tx, task)
}

/// Encodes `msg` onto a writer task's channel. An encoding failure is
/// logged (it is the sender's bug or an object without a codec).
pub(crate) fn post(out: &Outbox, msg: &impl Message, what: &str) {
    match msg.encode() {
        Ok(f) => {
            // A closed channel means the connection is gone; its loss is
            // reported by its reader.
            let _ = out.send(f);
        }
        Err(e) => crate::log(format_args!("cannot encode a message to {what}: {e}")),
    }
}

/// Connects to `addr` as `role`: sends the hello and reads the answer.
pub(crate) async fn connect(
    addr: &str,
    role: Role,
    name: &str,
    token: Option<String>,
) -> Result<(FrameReader, OwnedWriteHalf, Welcome, TcpStreamInfo), ConnError> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let info = TcpStreamInfo { local: stream.local_addr()? };
    let (read, mut write) = stream.into_split();
    let mut reader = FrameReader::new(read);
    let hello = Handshake::Hello(Hello::new(role, name, token));
    write_frame(&mut write, &blockwork_protocol::encode_frame(hello.to_frame())?).await?;
    let frame = reader.expect("the handshake answer").await?;
    match read_answer(frame)? {
        Ok(welcome) => Ok((reader, write, welcome, info)),
        Err(refused) => Err(ConnError::Refused(refused.reason)),
    }
}

/// What a connecting side learns of its own socket.
pub(crate) struct TcpStreamInfo {
    /// The local address (its IP is the one that reaches the peer).
    pub(crate) local: std::net::SocketAddr,
}

/// The accepting side of the handshake: reads the hello, answers, and
/// returns the peer's hello if it was welcomed.
pub(crate) async fn accept(
    reader: &mut FrameReader,
    write: &mut OwnedWriteHalf,
    acceptor: &Acceptor,
) -> Result<Hello, ConnError> {
    let frame = reader.expect("the hello").await?;
    let (hello, answer) = acceptor.on_first_frame(frame)?;
    let (reply, refused) = match answer {
        Ok(w) => (Handshake::Welcome(w), None),
        Err(r) => {
            let reason = r.reason.clone();
            (Handshake::Refused(r), Some(reason))
        }
    };
    write_frame(write, &blockwork_protocol::encode_frame(reply.to_frame())?).await?;
    write.flush().await?;
    match refused {
        None => Ok(hello),
        Some(reason) => Err(ConnError::Refused(reason)),
    }
}

/// Accepts connections on `listener` until `stopped` changes, serving
/// each on its own task; a connection that fails is logged and closed,
/// and the listener goes on. `what` names the listener in the log.
pub(crate) async fn accept_until_stopped<F, Fut>(
    listener: tokio::net::TcpListener,
    mut stopped: tokio::sync::watch::Receiver<bool>,
    what: &'static str,
    serve: F,
) where
    F: Fn(tokio::net::TcpStream, std::net::SocketAddr) -> Fut,
    Fut: std::future::Future<Output = Result<(), ConnError>> + Send + 'static,
{
    loop {
        tokio::select! {
            _ = stopped.changed() => return,
            res = listener.accept() => match res {
                Ok((stream, peer)) => {
                    let fut = serve(stream, peer);
                    tokio::spawn(async move {
                        if let Err(e) = fut.await {
                            crate::log(format_args!("{what}: closing the connection from {peer}: {e}"));
                        }
                    });
                }
                Err(e) => crate::log(format_args!("{what}: accept failed: {e}")),
            },
        }
    }
}
