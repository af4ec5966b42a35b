//! The client's side of the SMTP dialogue as two state machines, without
//! I/O: each takes the server's replies and says what to send next.
//!
//! * [`Handshake`]: greeting → EHLO → `[STARTTLS → (TLS) → EHLO]` → `[AUTH]`.
//!   Exactly one EHLO per session state (RFC 5321 §4.1.4: a second EHLO
//!   resets the session, and OpenSMTPD refuses it with `503 Already
//!   identified`); what the server offers, PIPELINING among it, is read
//!   from that one answer.
//! * [`Transaction`]: one letter, MAIL → RCPT… → DATA → the message, the
//!   commands in one write when the server offers PIPELINING (RFC 2920),
//!   otherwise one at a time. Its errors say whose fault a refusal is:
//!   the session's ([`TxError::Session`]: 421, or a 4xx to MAIL after
//!   messages were sent on this connection, the server's per-session
//!   limit) or the letter's ([`TxError::Letter`]).

use super::auth::{self, Credentials};
use super::reply::{Capabilities, Reply};

/// What the adapter does next.
#[derive(Debug, PartialEq, Eq)]
pub enum Action {
    /// Write these bytes, then read the next reply.
    Send(Vec<u8>),
    /// Start TLS on the socket, then call [`Handshake::on_tls`].
    StartTls,
    /// The session is ready for letters.
    Ready(Capabilities),
}

/// The stage of the handshake a refusal came at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Greeting,
    Ehlo,
    Helo,
    StartTls,
    Auth,
}

impl Stage {
    fn name(self) -> &'static str {
        match self {
            Stage::Greeting => "greeting",
            Stage::Ehlo => "EHLO",
            Stage::Helo => "HELO",
            Stage::StartTls => "STARTTLS",
            Stage::Auth => "AUTH",
        }
    }
}

/// Why a session could not be set up. Never the letter's fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SetupError {
    #[error("refused at {}: {reply}", .stage.name())]
    Refused { stage: Stage, reply: Reply },
    #[error("the server does not offer STARTTLS, which outgoing.tls = \"starttls\" requires (use tls = \"implicit\" if it speaks TLS from the start)")]
    NoStartTls,
    #[error("{0}")]
    NoMechanism(String),
    #[error("login refused: {reply}{}", .detail.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    AuthRejected {
        reply: Reply,
        /// The credentials were an OAuth2 token: the caller may refresh it
        /// and try once more.
        xoauth2: bool,
        /// XOAUTH2's error challenge, decoded (it never holds the token).
        detail: Option<String>,
    },
    #[error("unexpected answer at {}: {reply}", .stage.name())]
    Unexpected { stage: Stage, reply: Reply },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HState {
    Greeting,
    Ehlo,
    Helo,
    StartTls,
    Tls,
    AuthPlain,
    LoginStart,
    LoginUser,
    LoginPass,
    XOAuth2,
    XOAuth2Error,
    Done,
}

/// Greeting → EHLO → `[STARTTLS → EHLO]` → `[AUTH]`.
#[derive(Debug)]
pub struct Handshake {
    state: HState,
    helo: String,
    starttls: bool,
    tls_done: bool,
    credentials: Option<Credentials>,
    caps: Capabilities,
    detail: Option<String>,
}

impl Handshake {
    /// `helo`: the name to greet with; `starttls`: upgrade before anything
    /// else (the server must offer it); `credentials`: log in after the
    /// last EHLO.
    pub fn new(helo: &str, starttls: bool, credentials: Option<Credentials>) -> Handshake {
        Handshake {
            state: HState::Greeting,
            helo: helo.to_string(),
            starttls,
            tls_done: false,
            credentials,
            caps: Capabilities::default(),
            detail: None,
        }
    }

    fn ehlo(&mut self) -> Action {
        self.state = HState::Ehlo;
        Action::Send(format!("EHLO {}\r\n", self.helo).into_bytes())
    }

    /// The server's next reply.
    pub fn on_reply(&mut self, reply: Reply) -> Result<Action, SetupError> {
        let refused = |stage| SetupError::Refused {
            stage,
            reply: reply.clone(),
        };
        match self.state {
            HState::Greeting if reply.code == 220 => Ok(self.ehlo()),
            HState::Greeting => Err(refused(Stage::Greeting)),
            HState::Ehlo if reply.is_positive() => {
                self.caps = Capabilities::from_ehlo(&reply);
                if self.starttls && !self.tls_done {
                    if !self.caps.starttls {
                        return Err(SetupError::NoStartTls);
                    }
                    self.state = HState::StartTls;
                    return Ok(Action::Send(b"STARTTLS\r\n".to_vec()));
                }
                self.authenticate()
            }
            // A server that knows no EHLO (RFC 5321 §3.2): HELO, without
            // extensions, where nothing needs them.
            HState::Ehlo
                if matches!(reply.code, 500 | 502)
                    && !self.starttls
                    && self.credentials.is_none() =>
            {
                self.state = HState::Helo;
                Ok(Action::Send(format!("HELO {}\r\n", self.helo).into_bytes()))
            }
            HState::Ehlo => Err(refused(Stage::Ehlo)),
            HState::Helo if reply.is_positive() => {
                self.state = HState::Done;
                Ok(Action::Ready(Capabilities::default()))
            }
            HState::Helo => Err(refused(Stage::Helo)),
            HState::StartTls if reply.code == 220 => {
                self.state = HState::Tls;
                Ok(Action::StartTls)
            }
            HState::StartTls => Err(refused(Stage::StartTls)),
            HState::AuthPlain | HState::LoginPass | HState::XOAuth2 | HState::XOAuth2Error
                if reply.code == 235 =>
            {
                self.state = HState::Done;
                Ok(Action::Ready(self.caps.clone()))
            }
            HState::LoginStart if reply.code == 334 => {
                let Some(Credentials::Password { user, .. }) = &self.credentials else {
                    return Err(refused(Stage::Auth));
                };
                self.state = HState::LoginUser;
                Ok(Action::Send(
                    format!("{}\r\n", auth::base64(user.as_bytes())).into_bytes(),
                ))
            }
            HState::LoginUser if reply.code == 334 => {
                let Some(Credentials::Password { pass, .. }) = &self.credentials else {
                    return Err(refused(Stage::Auth));
                };
                self.state = HState::LoginPass;
                Ok(Action::Send(
                    format!("{}\r\n", auth::base64(pass.as_bytes())).into_bytes(),
                ))
            }
            // XOAUTH2's failure (RFC-less, as Google and Microsoft do it):
            // a 334 whose text is a base64 JSON error; the client answers
            // with an empty line and gets the 535.
            HState::XOAuth2 if reply.code == 334 => {
                let text = reply.lines.first().map(String::as_str).unwrap_or("");
                self.detail = auth::unbase64(text)
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                    .filter(|s| !s.trim().is_empty())
                    .map(|s| s.chars().take(300).collect());
                self.state = HState::XOAuth2Error;
                Ok(Action::Send(b"\r\n".to_vec()))
            }
            HState::AuthPlain
            | HState::LoginStart
            | HState::LoginUser
            | HState::LoginPass
            | HState::XOAuth2
            | HState::XOAuth2Error
                if reply.code == 535 || reply.is_permanent() =>
            {
                Err(SetupError::AuthRejected {
                    xoauth2: matches!(self.state, HState::XOAuth2 | HState::XOAuth2Error),
                    detail: self.detail.take(),
                    reply,
                })
            }
            HState::AuthPlain
            | HState::LoginStart
            | HState::LoginUser
            | HState::LoginPass
            | HState::XOAuth2
            | HState::XOAuth2Error
                if reply.is_transient() =>
            {
                Err(refused(Stage::Auth))
            }
            HState::AuthPlain
            | HState::LoginStart
            | HState::LoginUser
            | HState::LoginPass
            | HState::XOAuth2
            | HState::XOAuth2Error => Err(SetupError::Unexpected {
                stage: Stage::Auth,
                reply,
            }),
            HState::Tls | HState::Done => Err(SetupError::Unexpected {
                stage: Stage::Greeting,
                reply,
            }),
        }
    }

    /// TLS is up after STARTTLS: the session starts over with EHLO.
    pub fn on_tls(&mut self) -> Action {
        self.tls_done = true;
        self.caps = Capabilities::default();
        self.ehlo()
    }

    /// After the last EHLO: AUTH with the mechanism the credentials call
    /// for, or ready.
    fn authenticate(&mut self) -> Result<Action, SetupError> {
        let Some(creds) = &self.credentials else {
            self.state = HState::Done;
            return Ok(Action::Ready(self.caps.clone()));
        };
        let offered = if self.caps.auth.is_empty() {
            "no AUTH".to_string()
        } else {
            format!("AUTH {}", self.caps.auth.join(" "))
        };
        match creds {
            Credentials::Password { user, pass } => {
                if self.caps.offers_auth("PLAIN") {
                    self.state = HState::AuthPlain;
                    Ok(Action::Send(
                        format!("AUTH PLAIN {}\r\n", auth::plain(user, pass)).into_bytes(),
                    ))
                } else if self.caps.offers_auth("LOGIN") {
                    self.state = HState::LoginStart;
                    Ok(Action::Send(b"AUTH LOGIN\r\n".to_vec()))
                } else {
                    Err(SetupError::NoMechanism(format!(
                        "the server offers {offered}; ticketd logs in with a password by PLAIN or LOGIN (is TLS on? many servers offer AUTH only over TLS)"
                    )))
                }
            }
            Credentials::XOAuth2 { user, token } => {
                if self.caps.offers_auth("XOAUTH2") {
                    self.state = HState::XOAuth2;
                    Ok(Action::Send(
                        format!("AUTH XOAUTH2 {}\r\n", auth::xoauth2(user, token)).into_bytes(),
                    ))
                } else {
                    Err(SetupError::NoMechanism(format!(
                        "the server offers {offered}, not XOAUTH2, which an OAuth2 login needs"
                    )))
                }
            }
        }
    }
}

/// Why a letter was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TxError {
    /// The session is over, not the letter's fault (421; a 4xx to MAIL
    /// after `messages` letters on this connection: the server's
    /// per-session limit): send it at once on a new connection.
    Session(Reply),
    /// The server's answer about this letter, at `stage` (MAIL, RCPT,
    /// DATA or the end of data). 4xx transient, 5xx permanent.
    Letter { stage: &'static str, reply: Reply },
    /// What ticketd refuses to send to this server (permanent).
    Refused(String),
    /// An answer that makes no sense here.
    Unexpected { stage: &'static str, reply: Reply },
}

impl std::fmt::Display for TxError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TxError::Session(r) => write!(f, "the server ended the session: {r}"),
            TxError::Letter { stage, reply } => write!(f, "{reply} (answer to {stage})"),
            TxError::Refused(why) => f.write_str(why),
            TxError::Unexpected { stage, reply } => {
                write!(f, "unexpected answer to {stage}: {reply}")
            }
        }
    }
}

/// What the adapter does next in a transaction.
#[derive(Debug, PartialEq, Eq)]
pub enum TxAction {
    /// Write these bytes, then read the next reply.
    Send(Vec<u8>),
    /// Read the next reply (pipelined answers still owed).
    Read,
    /// DATA was accepted: write the message ([`data`]), then read.
    SendData,
    /// The server accepted the letter.
    Done,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TState {
    Mail,
    Rcpt(usize),
    Data,
    Sent,
}

/// One letter on a ready session.
#[derive(Debug)]
pub struct Transaction {
    state: TState,
    recipients: Vec<String>,
    pipelined: bool,
    /// Letters already accepted on this connection.
    sent_before: u32,
}

impl Transaction {
    /// Start a letter from `from` (empty: the null reverse-path) to `to`,
    /// whose message is `raw`, on a session that offers `caps` and has
    /// carried `sent_before` letters. Returns the transaction and the first
    /// bytes to send: MAIL alone, or MAIL, every RCPT and DATA together
    /// when the server offers PIPELINING.
    pub fn start(
        from: &str,
        to: &[String],
        raw: &[u8],
        caps: &Capabilities,
        sent_before: u32,
    ) -> Result<(Transaction, Vec<u8>), TxError> {
        if to.is_empty() {
            return Err(TxError::Refused("a letter without recipients".into()));
        }
        let utf8 = !from.is_ascii() || to.iter().any(|a| !a.is_ascii());
        if utf8 && !caps.smtputf8 {
            return Err(TxError::Refused(
                "an address is not ASCII and the server does not offer SMTPUTF8".into(),
            ));
        }
        if let Some(limit) = caps.size {
            if raw.len() as u64 > limit {
                return Err(TxError::Refused(format!(
                    "the letter has {} bytes, the server takes at most {limit} (SIZE)",
                    raw.len()
                )));
            }
        }
        let mut mail = format!("MAIL FROM:<{from}>");
        if caps.size.is_some() {
            mail.push_str(&format!(" SIZE={}", raw.len()));
        }
        if caps.eight_bit_mime && !raw.is_ascii() {
            mail.push_str(" BODY=8BITMIME");
        }
        if utf8 {
            mail.push_str(" SMTPUTF8");
        }
        mail.push_str("\r\n");
        let tx = Transaction {
            state: TState::Mail,
            recipients: to.to_vec(),
            pipelined: caps.pipelining,
            sent_before,
        };
        if tx.pipelined {
            for r in &tx.recipients {
                mail.push_str(&format!("RCPT TO:<{r}>\r\n"));
            }
            mail.push_str("DATA\r\n");
        }
        Ok((tx, mail.into_bytes()))
    }

    /// Whether the commands went in one write.
    pub fn pipelined(&self) -> bool {
        self.pipelined
    }

    /// The server's next reply. Any error ends the transaction; the adapter
    /// then closes the connection (which also aborts a DATA in progress, so
    /// no letter is half-delivered).
    pub fn on_reply(&mut self, reply: Reply) -> Result<TxAction, TxError> {
        let stage = match self.state {
            TState::Mail => "MAIL",
            TState::Rcpt(_) => "RCPT",
            TState::Data => "DATA",
            TState::Sent => "end of data",
        };
        if reply.code == 421 {
            return Err(TxError::Session(reply));
        }
        let ok = match self.state {
            TState::Data => reply.code == 354,
            _ => reply.is_positive(),
        };
        if !ok {
            if self.state == TState::Mail && reply.is_transient() && self.sent_before > 0 {
                return Err(TxError::Session(reply));
            }
            if reply.is_transient() || reply.is_permanent() {
                return Err(TxError::Letter { stage, reply });
            }
            return Err(TxError::Unexpected { stage, reply });
        }
        let next = |tx: &Transaction, state: TState| -> Vec<u8> {
            match state {
                TState::Rcpt(i) => format!("RCPT TO:<{}>\r\n", tx.recipients[i]).into_bytes(),
                _ => b"DATA\r\n".to_vec(),
            }
        };
        let (state, action) = match self.state {
            TState::Mail | TState::Rcpt(_) => {
                let i = match self.state {
                    TState::Rcpt(i) => i + 1,
                    _ => 0,
                };
                let state = if i < self.recipients.len() {
                    TState::Rcpt(i)
                } else {
                    TState::Data
                };
                let action = if self.pipelined {
                    TxAction::Read
                } else {
                    TxAction::Send(next(self, state))
                };
                (state, action)
            }
            TState::Data => (TState::Sent, TxAction::SendData),
            TState::Sent => (TState::Sent, TxAction::Done),
        };
        self.state = state;
        Ok(action)
    }
}

/// The message as DATA carries it (RFC 5321 §4.5.2): lines end in CRLF (a
/// bare LF becomes CRLF), a line starting with `.` gets another, and
/// `.` on a line of its own ends it. Written in pieces of about `chunk`
/// bytes so a large letter is never copied whole.
pub fn data(raw: &[u8], chunk: usize) -> impl Iterator<Item = Vec<u8>> + '_ {
    let mut pos = 0;
    let mut line_start = true;
    let mut finished = false;
    std::iter::from_fn(move || {
        if finished {
            return None;
        }
        let mut out = Vec::with_capacity(chunk.min(raw.len() - pos + 8) + 8);
        while pos < raw.len() && out.len() < chunk {
            let b = raw[pos];
            if line_start && b == b'.' {
                out.push(b'.');
            }
            if b == b'\n' && (pos == 0 || raw[pos - 1] != b'\r') {
                out.push(b'\r');
            }
            out.push(b);
            line_start = b == b'\n';
            pos += 1;
        }
        if pos == raw.len() {
            if !line_start {
                out.extend_from_slice(b"\r\n");
            }
            out.extend_from_slice(b".\r\n");
            finished = true;
        }
        Some(out)
    })
}

#[cfg(test)]
#[path = "dialogue_tests.rs"]
mod tests;
