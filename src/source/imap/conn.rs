//! Opening an authenticated IMAP session: TCP, then implicit TLS, STARTTLS
//! or (loopback only, enforced by config validation) no TLS; LOGIN; the
//! capabilities that decide IDLE vs polling and MOVE vs COPY+EXPUNGE.

use std::io;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

use super::ImapError;
use crate::config::{ImapMailbox, Tls};

/// Bound on connecting, the TLS handshake and login.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// The byte stream under the IMAP session: TLS or (loopback) plain TCP.
#[derive(Debug)]
pub enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

pub type Session = async_imap::Session<Stream>;

/// Everything needed to connect, resolved once from the config.
#[derive(Clone)]
pub struct Target {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: String,
    pub tls: Tls,
    pub ca_file: Option<PathBuf>,
    tls_config: Option<Arc<rustls::ClientConfig>>,
    /// `auth = "oauth2"`: log in with SASL XOAUTH2 and a token from here
    /// (`password` is then empty).
    pub oauth2: Option<Arc<crate::oauth2::TokenSource>>,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}@{}:{} ({:?})",
            self.user, self.host, self.port, self.tls
        )
    }
}

impl Target {
    /// Read `[mailbox]`: host, port (993 implicit, else 143), user, the
    /// password from its file or variable, the TLS trust settings.
    pub fn from_config(
        m: &ImapMailbox,
        clock: Arc<dyn crate::clock::Clock>,
    ) -> Result<Target, ImapError> {
        let host = m.host.clone();
        let user = m.user.clone();
        let oauth2 = crate::config::oauth2::mailbox_settings(m)?
            .map(crate::oauth2::TokenSource::new)
            .transpose()?
            .map(|t| Arc::new(t.with_clock(clock)));
        let password = if oauth2.is_some() {
            String::new()
        } else {
            crate::config::read_secret(
                m.password_file.as_deref(),
                m.password_env.as_deref(),
                "mailbox password",
            )
            .map_err(|e| ImapError::Config(e.to_string()))?
            .ok_or_else(|| {
                ImapError::Config(
                    "kind = \"imap\" needs mailbox.password_file or mailbox.password_env".into(),
                )
            })?
        };
        let port = m.port.unwrap_or(match m.tls {
            Tls::Implicit => 993,
            _ => 143,
        });
        let tls_config = match m.tls {
            Tls::None => None,
            _ => Some(crate::tls::client_config(
                m.ca_file.as_deref(),
                "mailbox.ca_file",
            )?),
        };
        Ok(Target {
            host,
            port,
            user,
            password,
            tls: m.tls,
            ca_file: m.ca_file.clone(),
            tls_config,
            oauth2,
        })
    }

    /// With `auth = "oauth2"`: record token failures in the database for
    /// `ticketd status`.
    pub fn report_token_status(&self, cfg: &crate::config::Config) {
        if let Some(t) = &self.oauth2 {
            match cfg.database.store_at() {
                Ok(at) => t.set_status_sink(crate::oauth2::store_sink(at)),
                Err(e) => tracing::warn!(error = %e, "cannot record the OAuth2 state"),
            }
        }
    }

    /// Connect, secure, log in. Returns the session and whether the server
    /// offers IDLE and MOVE / UIDPLUS.
    pub async fn open(&self) -> Result<(Session, Caps), ImapError> {
        tokio::time::timeout(CONNECT_TIMEOUT, self.open_inner())
            .await
            .map_err(|_| ImapError::Timeout(format!("connecting to {}:{}", self.host, self.port)))?
    }

    async fn open_inner(&self) -> Result<(Session, Caps), ImapError> {
        let tcp = TcpStream::connect((self.host.as_str(), self.port))
            .await
            .map_err(|e| ImapError::Connect(format!("{}:{}: {e}", self.host, self.port)))?;
        let _ = tcp.set_nodelay(true);
        let stream = match self.tls {
            Tls::Implicit => Stream::Tls(Box::new(self.handshake(tcp).await?)),
            Tls::None => Stream::Plain(tcp),
            Tls::Starttls => {
                let mut client = async_imap::Client::new(tcp);
                greeting(&mut client).await?;
                client
                    .run_command_and_check_ok("STARTTLS", None)
                    .await
                    .map_err(|e| {
                        ImapError::Protocol(format!("STARTTLS refused by {}: {e}", self.host))
                    })?;
                let tcp = client.into_inner();
                let tls = self.handshake(tcp).await?;
                let client = async_imap::Client::new(Stream::Tls(Box::new(tls)));
                return self.login(client).await;
            }
        };
        let mut client = async_imap::Client::new(stream);
        greeting(&mut client).await?;
        self.login(client).await
    }

    async fn handshake(&self, tcp: TcpStream) -> Result<TlsStream<TcpStream>, ImapError> {
        let config = self
            .tls_config
            .clone()
            .ok_or_else(|| ImapError::Config("TLS requested without TLS settings".into()))?;
        let name = crate::tls::server_name(&self.host)?;
        tokio_rustls::TlsConnector::from(config)
            .connect(name, tcp)
            .await
            .map_err(|e| match crate::tls::find_rustls_error(&e) {
                Some(r) => ImapError::Tls(crate::tls::explain(
                    r,
                    &self.host,
                    "mailbox.ca_file",
                    self.ca_file.as_deref(),
                )),
                None => ImapError::Connect(format!(
                    "TLS handshake with {}:{}: {e}",
                    self.host, self.port
                )),
            })
    }

    async fn login(
        &self,
        client: async_imap::Client<Stream>,
    ) -> Result<(Session, Caps), ImapError> {
        let mut session = match &self.oauth2 {
            Some(tokens) => self.login_oauth2(client, tokens).await?,
            None => self.login_password(client).await?,
        };
        let caps = session.capabilities().await.map_err(proto("CAPABILITY"))?;
        let caps = Caps {
            idle: caps.has_str("IDLE"),
            mv: caps.has_str("MOVE"),
            uidplus: caps.has_str("UIDPLUS"),
        };
        Ok((session, caps))
    }

    /// SASL XOAUTH2 with the cached token; when the server refuses it, one
    /// fresh token on the same connection before giving up.
    async fn login_oauth2(
        &self,
        mut client: async_imap::Client<Stream>,
        tokens: &crate::oauth2::TokenSource,
    ) -> Result<Session, ImapError> {
        let mut attempt = 0;
        loop {
            let token = tokens.access_token().await?;
            let auth = XOAuth2 {
                response: Some(crate::oauth2::grant::xoauth2(&self.user, &token)),
            };
            match client.authenticate("XOAUTH2", auth).await {
                Ok(session) => return Ok(session),
                Err((
                    async_imap::error::Error::No(msg) | async_imap::error::Error::Bad(msg),
                    back,
                )) => {
                    tokens.rejected(&token);
                    if attempt == 1 {
                        return Err(ImapError::OAuthLogin {
                            user: self.user.clone(),
                            message: msg,
                        });
                    }
                    attempt += 1;
                    client = back;
                }
                Err((other, _)) => {
                    return Err(ImapError::Protocol(format!(
                        "AUTHENTICATE XOAUTH2: {other}"
                    )))
                }
            }
        }
    }

    async fn login_password(
        &self,
        client: async_imap::Client<Stream>,
    ) -> Result<Session, ImapError> {
        let session = client
            .login(&self.user, &self.password)
            .await
            .map_err(|(e, _)| match e {
                async_imap::error::Error::No(msg) | async_imap::error::Error::Bad(msg) => {
                    ImapError::Login {
                        user: self.user.clone(),
                        message: msg,
                    }
                }
                other => ImapError::Protocol(format!("login: {other}")),
            })?;
        Ok(session)
    }
}

/// The XOAUTH2 exchange: the token string at the server's first `+`; an
/// empty line at a second one (the server's JSON error detail), after which
/// it answers NO.
struct XOAuth2 {
    response: Option<Vec<u8>>,
}

impl async_imap::Authenticator for XOAuth2 {
    type Response = Vec<u8>;
    fn process(&mut self, _challenge: &[u8]) -> Vec<u8> {
        self.response.take().unwrap_or_default()
    }
}

/// What the server offers that changes how we work.
#[derive(Debug, Clone, Copy, Default)]
pub struct Caps {
    pub idle: bool,
    pub mv: bool,
    pub uidplus: bool,
}

async fn greeting<T>(client: &mut async_imap::Client<T>) -> Result<(), ImapError>
where
    T: AsyncRead + AsyncWrite + Unpin + std::fmt::Debug + Send,
{
    match client.read_response().await {
        Ok(Some(_)) => Ok(()),
        Ok(None) => Err(ImapError::Connect(
            "the server closed the connection before its greeting".into(),
        )),
        Err(e) => Err(ImapError::Connect(format!("reading the greeting: {e}"))),
    }
}

/// Map an async-imap error of `command` to [`ImapError::Protocol`].
pub fn proto(command: &'static str) -> impl Fn(async_imap::error::Error) -> ImapError {
    move |e| ImapError::Protocol(format!("{command}: {e}"))
}
