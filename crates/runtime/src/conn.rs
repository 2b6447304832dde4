//! Frames over a TCP stream (TLS on it, if the cluster uses TLS): reading
//! into a [`FrameDecoder`], writing the chunks of an [`EncodedFrame`], and
//! the handshake from both sides.
//!
//! A connection is split in two: the read half stays with the task that
//! decodes and routes; the write half goes to a writer task fed by a
//! channel of encoded frames, so that a state machine's loop never waits
//! on a slow socket.

use blockwork_protocol::{
    read_answer, Acceptor, EncodedFrame, Frame, FrameDecoder, Handshake, Hello, Limits, Message, Role, Welcome,
};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufWriter};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

use crate::error::ConnError;
use crate::tls::{Security, Tls};

/// The read half of a connection, TLS or not.
pub(crate) type ReadHalf = Box<dyn AsyncRead + Unpin + Send>;
/// The write half of a connection, TLS or not.
pub(crate) type WriteHalf = Box<dyn AsyncWrite + Unpin + Send>;

/// Boxes the halves of a (TLS) stream.
fn halves<S: AsyncRead + AsyncWrite + Send + 'static>(s: S) -> (ReadHalf, WriteHalf) {
    let (r, w) = tokio::io::split(s);
    (Box::new(r), Box::new(w))
}

/// A plain stream's owned halves (no lock between them).
fn plain_halves(stream: TcpStream) -> (ReadHalf, WriteHalf) {
    let (r, w) = stream.into_split();
    (Box::new(r), Box::new(w))
}

/// Splits an accepted stream, after the TLS handshake if `security` asks.
pub(crate) async fn server_halves(stream: TcpStream, security: &Security) -> Result<(ReadHalf, WriteHalf), ConnError> {
    stream.set_nodelay(true)?;
    match &security.tls {
        None => Ok(plain_halves(stream)),
        Some(tls) => Ok(halves(tls.acceptor.accept(stream).await.map_err(ConnError::Tls)?)),
    }
}

/// Connects to `addr` and splits the stream, after the TLS handshake if
/// `security` asks.
async fn client_halves(addr: &str, security: &Security) -> Result<(ReadHalf, WriteHalf, TcpStreamInfo), ConnError> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let info = TcpStreamInfo { local: stream.local_addr()? };
    let (r, w) = match &security.tls {
        None => plain_halves(stream),
        Some(tls) => {
            let handshake = tls.connector.connect(Tls::server_name(addr), stream);
            halves(handshake.await.map_err(ConnError::Tls)?)
        }
    };
    Ok((r, w, info))
}

/// The read side of a connection: bytes in, frames out.
pub(crate) struct FrameReader {
    read: ReadHalf,
    decoder: FrameDecoder,
    buf: Vec<u8>,
}

impl FrameReader {
    pub(crate) fn new(read: ReadHalf) -> Self {
        FrameReader { read, decoder: FrameDecoder::new(Limits::default()), buf: vec![0; 64 * 1024] }
    }

    /// The next frame; `None` when the peer closed between frames.
    pub(crate) async fn next(&mut self) -> Result<Option<Frame>, ConnError> {
        loop {
            if let Some(f) = self.decoder.next_frame() {
                return Ok(Some(f));
            }
            let n = match self.read.read(&mut self.buf).await {
                Ok(n) => n,
                // A TLS peer that closed without saying so: an end all the same.
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => 0,
                Err(e) => return Err(e.into()),
            };
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
pub(crate) fn spawn_writer(write: WriteHalf, peer: String) -> (Outbox, tokio::task::JoinHandle<()>) {
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
                crate::log!(WARN, "writing to {peer} failed: {e}; closing the connection");
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
        Err(e) => crate::log!(ERROR, "cannot encode a message to {what}: {e}"),
    }
}

/// Connects to `addr` as `role` with `security` (TLS, token): sends the
/// hello and reads the answer.
pub(crate) async fn connect(
    addr: &str,
    role: Role,
    name: &str,
    security: &Security,
) -> Result<(FrameReader, WriteHalf, Welcome, TcpStreamInfo), ConnError> {
    let (read, mut write, info) = client_halves(addr, security).await?;
    let mut reader = FrameReader::new(read);
    let hello = Handshake::Hello(Hello::new(role, name, security.token.clone()));
    let exchange = async {
        write_frame(&mut write, &blockwork_protocol::encode_frame(hello.to_frame())?).await?;
        write.flush().await?;
        reader.expect("the handshake answer").await
    };
    let frame = exchange.await.map_err(|e| match e {
        // With TLS 1.3 a server that refuses this side's certificate says
        // so after the handshake: the alert, or just a closed connection.
        e @ (ConnError::Io(_) | ConnError::Closed(_) | ConnError::ClosedMidFrame) if security.tls.is_some() => {
            ConnError::TlsEnded { addr: addr.to_string(), source: Box::new(e) }
        }
        e => e,
    })?;
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
    write: &mut WriteHalf,
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
                            crate::log!(WARN, "{what}: closing the connection from {peer}: {e}");
                        }
                    });
                }
                Err(e) => crate::log!(WARN, "{what}: accept failed: {e}"),
            },
        }
    }
}

/// Sends one request to the data port at `address` as `role` and reads
/// the answer (the scheduler's gathers and scatters, a client's `run`).
pub(crate) async fn ask(
    address: &str,
    msg: &blockwork_protocol::PeerMessage,
    role: Role,
    security: &Security,
) -> Result<blockwork_protocol::PeerMessage, ConnError> {
    let (mut reader, mut write, _, _) = connect(address, role, "data", security).await?;
    send(&mut write, msg).await?;
    let answer = reader.message::<blockwork_protocol::PeerMessage>("the answer").await;
    // Says goodbye (TLS's close_notify) rather than just vanishing.
    let _ = write.shutdown().await;
    answer
}
