//! The thin tokio adapter: a TCP (or TLS) socket driven by the
//! [`dialogue`](super::dialogue) machines. Reads until the machine has a
//! whole reply, writes what it says; nothing here decides anything.

use std::sync::Arc;
use std::time::Instant;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

use super::auth::Credentials;
use super::dialogue::{self, Action, Handshake, Transaction, TxAction, TxError};
use super::reply::{Capabilities, ProtocolError, Reply, ReplyReader};

/// Bytes of the message written at a time.
const DATA_CHUNK: usize = 64 * 1024;

/// The socket, plain or TLS.
enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
    /// Between taking the plain socket for STARTTLS and getting TLS back.
    Gone,
}

/// How a connection failed below SMTP.
#[derive(Debug)]
pub enum IoFail {
    Io(std::io::Error),
    Closed,
    Protocol(ProtocolError),
}

impl std::fmt::Display for IoFail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IoFail::Io(e) => write!(f, "{e}"),
            IoFail::Closed => f.write_str("the server closed the connection"),
            IoFail::Protocol(e) => write!(f, "{e}"),
        }
    }
}

/// How opening a session failed.
#[derive(Debug)]
pub enum OpenFail {
    Io(IoFail),
    /// The TLS handshake (implicit or after STARTTLS).
    Tls(std::io::Error),
    Setup(dialogue::SetupError),
}

/// How a letter failed.
#[derive(Debug)]
pub enum SendFail {
    Io {
        fail: IoFail,
        /// No reply to this letter was read: nothing of it was accepted.
        before_any_reply: bool,
    },
    Tx(TxError),
}

/// What TLS the session uses.
pub enum Tls<'a> {
    None,
    Starttls(&'a Arc<rustls::ClientConfig>),
    Implicit(&'a Arc<rustls::ClientConfig>),
}

/// One open SMTP session, ready for letters.
pub struct Conn {
    stream: Stream,
    reader: ReplyReader,
    pub caps: Capabilities,
    /// Letters accepted on this connection.
    pub sent: u32,
    pub last_used: Instant,
}

impl Conn {
    async fn read_reply(&mut self) -> Result<Reply, IoFail> {
        let mut buf = [0u8; 4096];
        loop {
            if let Some(r) = self.reader.next_reply().map_err(IoFail::Protocol)? {
                return Ok(r);
            }
            let n = match &mut self.stream {
                Stream::Plain(s) => s.read(&mut buf).await,
                Stream::Tls(s) => s.read(&mut buf).await,
                Stream::Gone => return Err(IoFail::Closed),
            }
            .map_err(IoFail::Io)?;
            if n == 0 {
                return Err(IoFail::Closed);
            }
            self.reader.feed(&buf[..n]);
        }
    }

    async fn write(&mut self, bytes: &[u8]) -> Result<(), IoFail> {
        match &mut self.stream {
            Stream::Plain(s) => s.write_all(bytes).await,
            Stream::Tls(s) => {
                let r = s.write_all(bytes).await;
                match r {
                    Ok(()) => s.flush().await,
                    e => e,
                }
            }
            Stream::Gone => return Err(IoFail::Closed),
        }
        .map_err(IoFail::Io)
    }

    /// Connect's second half: TLS as configured, then the handshake.
    pub async fn open(
        tcp: TcpStream,
        host: &str,
        tls: Tls<'_>,
        helo: &str,
        credentials: Option<Credentials>,
    ) -> Result<Conn, OpenFail> {
        let _ = tcp.set_nodelay(true);
        let stream = match &tls {
            Tls::Implicit(cfg) => Stream::Tls(Box::new(start_tls(tcp, host, cfg).await?)),
            _ => Stream::Plain(tcp),
        };
        let mut conn = Conn {
            stream,
            reader: ReplyReader::new(),
            caps: Capabilities::default(),
            sent: 0,
            last_used: Instant::now(),
        };
        let starttls = matches!(tls, Tls::Starttls(_));
        let mut hs = Handshake::new(helo, starttls, credentials);
        loop {
            let reply = conn.read_reply().await.map_err(OpenFail::Io)?;
            match hs.on_reply(reply).map_err(OpenFail::Setup)? {
                Action::Send(bytes) => conn.write(&bytes).await.map_err(OpenFail::Io)?,
                Action::StartTls => {
                    let Tls::Starttls(cfg) = &tls else {
                        return Err(OpenFail::Io(IoFail::Closed));
                    };
                    if conn.reader.has_pending() {
                        // Bytes after 220 before TLS: an injection attempt
                        // (CVE-2011-0411 and kin); never read them as TLS.
                        return Err(OpenFail::Io(IoFail::Protocol(ProtocolError(
                            "data after the STARTTLS answer, before TLS".into(),
                        ))));
                    }
                    let Stream::Plain(tcp) = std::mem::replace(&mut conn.stream, Stream::Gone)
                    else {
                        return Err(OpenFail::Io(IoFail::Closed));
                    };
                    conn.stream = Stream::Tls(Box::new(start_tls(tcp, host, cfg).await?));
                    let Action::Send(bytes) = hs.on_tls() else {
                        unreachable!("on_tls always sends EHLO")
                    };
                    conn.write(&bytes).await.map_err(OpenFail::Io)?;
                }
                Action::Ready(caps) => {
                    conn.caps = caps;
                    conn.last_used = Instant::now();
                    return Ok(conn);
                }
            }
        }
    }

    /// One letter. Any error leaves the connection unusable (the caller
    /// drops it).
    pub async fn send(&mut self, from: &str, to: &[String], raw: &[u8]) -> Result<(), SendFail> {
        let (mut tx, first) =
            Transaction::start(from, to, raw, &self.caps, self.sent).map_err(SendFail::Tx)?;
        let mut replied = false;
        let io = |fail, replied: bool| SendFail::Io {
            fail,
            before_any_reply: !replied,
        };
        self.write(&first).await.map_err(|e| io(e, replied))?;
        loop {
            let reply = self.read_reply().await.map_err(|e| io(e, replied))?;
            replied = true;
            match tx.on_reply(reply).map_err(SendFail::Tx)? {
                TxAction::Send(bytes) => self.write(&bytes).await.map_err(|e| io(e, true))?,
                TxAction::Read => {}
                TxAction::SendData => {
                    for piece in dialogue::data(raw, DATA_CHUNK) {
                        self.write(&piece).await.map_err(|e| io(e, true))?;
                    }
                }
                TxAction::Done => {
                    self.sent += 1;
                    self.last_used = Instant::now();
                    return Ok(());
                }
            }
        }
    }

    /// Whether an idle connection still answers (NOOP → 250).
    pub async fn alive(&mut self) -> bool {
        if self.write(b"NOOP\r\n").await.is_err() {
            return false;
        }
        matches!(self.read_reply().await, Ok(r) if r.is_positive())
    }

    /// Say goodbye without waiting for the answer.
    pub async fn quit(mut self) {
        let _ = self.write(b"QUIT\r\n").await;
        if let Stream::Tls(s) = &mut self.stream {
            let _ = s.shutdown().await;
        }
    }
}

async fn start_tls(
    tcp: TcpStream,
    host: &str,
    cfg: &Arc<rustls::ClientConfig>,
) -> Result<TlsStream<TcpStream>, OpenFail> {
    let name = crate::tls::server_name(host).map_err(|e| {
        OpenFail::Tls(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            e.to_string(),
        ))
    })?;
    tokio_rustls::TlsConnector::from(cfg.clone())
        .connect(name, tcp)
        .await
        .map_err(OpenFail::Tls)
}
