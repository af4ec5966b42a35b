//! The site's side of the desk (`[web]`): the appeal form (п. 88.2) and
//! the users' signed status links, served by `ticketd run` with axum on the
//! daemon's tokio runtime.
//!
//! * `GET /` — the form (Table 2 fields, files, a one-time token, the
//!   honeypot `website`).
//! * `POST /appeal` — multipart; checked as a letter is (`form`, the
//!   files through [`crate::parse::attach::judge`]); a valid appeal goes
//!   through [`crate::pipeline::Handle::submit`] as `channel = "web"` with
//!   the token as its key (sent twice: one ticket). Errors show the form
//!   again with the values kept.
//! * `GET /t/{ticket}-{sig}` and `POST` there — the status page and its
//!   buttons (`web/link.rs`).
//!
//! Nothing here decides about tickets: the pipeline does, as for a letter.

pub mod form;
pub mod guard;
mod link;
pub mod pages;
mod upload;

use crate::config::web::Web;
use crate::desk::Desk;
use crate::pipeline::submission::{AppealFile, Channel, NewAppeal, Submission};
use crate::pipeline::{Handle, IngestError, Outcome};
use crate::workflow::signed::{self, FormToken};
use crate::workflow::token::ReplyKey;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Multipart, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use maud::Markup;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// The longest a form page may stay open before it is sent, seconds.
const FORM_MAX_AGE: i64 = 24 * 3600;

/// What the handlers share.
pub struct WebState {
    handle: Handle,
    key: ReplyKey,
    cfg: Arc<Desk>,
    web: Web,
    limiter: Mutex<guard::RateLimiter>,
    uploads: PathBuf,
}

/// Bind `[web] listen` (std, so a port in use is an error here and now).
pub fn bind(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    let l = std::net::TcpListener::bind(addr)?;
    l.set_nonblocking(true)?;
    tokio::net::TcpListener::from_std(l)
}

/// Serve the form and the links on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    handle: Handle,
    cfg: Arc<Desk>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let web = cfg
        .web
        .clone()
        .ok_or_else(|| anyhow::anyhow!("[web] is not configured"))?;
    let key = handle.with(|p| Ok(p.key().clone())).await?;
    let uploads = cfg.attachments.dir.join(".web-upload");
    std::fs::create_dir_all(&uploads).map_err(|e| {
        anyhow::anyhow!(
            "cannot create the upload folder `{}`: {e}",
            uploads.display()
        )
    })?;
    let state = Arc::new(WebState {
        limiter: Mutex::new(guard::RateLimiter::new(web.max_appeals_per_ip_per_hour)),
        handle,
        key,
        web,
        uploads,
        cfg,
    });
    tracing::info!(listen = %listener.local_addr()?, "web form and status links served");
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await?;
    Ok(())
}

fn router(state: Arc<WebState>) -> Router {
    // The whole request within [mailbox] max_letter_mb, as a letter; the
    // multipart framing's few bytes on top.
    let body_limit = usize::try_from(state.cfg.max_letter_bytes())
        .unwrap_or(usize::MAX)
        .saturating_add(64 * 1024);
    Router::new()
        .route("/", get(form_page))
        .route(
            "/appeal",
            axum::routing::post(submit).layer(DefaultBodyLimit::max(body_limit)),
        )
        .route("/t/{seg}", get(link::show).post(link::act))
        .fallback(not_found)
        .with_state(state)
}

/// A page with the headers every page carries: no scripts or outside
/// resources allowed, no referrer (a status link must not leak).
pub(crate) fn page(status: StatusCode, m: Markup) -> Response {
    let mut r = (status, m.into_string()).into_response();
    let h = r.headers_mut();
    for (k, v) in [
        (header::CONTENT_TYPE, "text/html; charset=utf-8"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::CACHE_CONTROL, "no-store"),
    ] {
        h.insert(k, HeaderValue::from_static(v));
    }
    r
}

pub(crate) async fn not_found() -> Response {
    page(
        StatusCode::NOT_FOUND,
        pages::message(
            "Страница не найдена",
            "Такой страницы нет. Если вы открыли ссылку из письма, проверьте, что она скопирована целиком.",
        ),
    )
}

impl WebState {
    fn now(&self) -> i64 {
        self.handle.clock().now().timestamp()
    }

    fn token(&self) -> String {
        signed::form_token(self.now(), &rand::random::<[u8; 16]>(), &self.key)
    }

    fn form(
        &self,
        status: StatusCode,
        values: &form::Values,
        errors: &form::Errors,
        notice: Option<&str>,
    ) -> Response {
        let token = self.token();
        let p = pages::FormPage {
            desk: &self.cfg.desk.name,
            token: &token,
            max_file_mb: self.cfg.attachments.max_size_mb,
            max_files: self.cfg.attachments.max_count,
            notice,
        };
        page(status, pages::form(&p, values, errors))
    }
}

async fn form_page(State(s): State<Arc<WebState>>) -> Response {
    s.form(
        StatusCode::OK,
        &form::Values::new(),
        &form::Errors::new(),
        None,
    )
}

async fn submit(
    State(s): State<Arc<WebState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    mp: Multipart,
) -> Response {
    let ip = guard::client_ip(peer, &headers);
    let limited = !s
        .limiter
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .allows(ip, s.now());
    if limited {
        return page(
            StatusCode::TOO_MANY_REQUESTS,
            pages::message(
                "Слишком много обращений",
                "С вашего адреса за последний час отправлено много обращений. Попробуйте позже или напишите на адрес службы поддержки.",
            ),
        );
    }
    let limits = s.cfg.parse_options().limits;
    let up = match upload::read(
        mp,
        &s.uploads,
        limits.max_attachment_bytes,
        limits.max_attachments,
    )
    .await
    {
        Ok(u) => u,
        Err(upload::UploadError::TooLarge) => {
            let mb = s.cfg.mailbox.max_letter_mb();
            return page(
                StatusCode::PAYLOAD_TOO_LARGE,
                pages::message(
                    "Обращение слишком большое",
                    &format!("Обращение вместе с файлами больше {mb} МБ. Уменьшите или уберите файлы и отправьте снова."),
                ),
            );
        }
        Err(e) => {
            tracing::warn!(error = %e, "web form not read");
            return page(
                StatusCode::BAD_REQUEST,
                pages::message(
                    "Форма не прочитана",
                    "Откройте форму заново и отправьте ещё раз.",
                ),
            );
        }
    };
    let values = &up.values;
    // The honeypot: a person never fills it; a bot gets what looks like
    // success and nothing is registered.
    if values.get("website").is_some_and(|v| !v.trim().is_empty()) {
        tracing::info!(%ip, "web form: honeypot filled, nothing registered");
        record(&s, ip);
        return page(StatusCode::OK, pages::accepted());
    }
    let token = values.get("token").map(|t| t.trim()).unwrap_or_default();
    let min_fill = i64::try_from(s.web.min_fill_secs).unwrap_or(3);
    if let Err(e) = signed::check_form_token(token, s.now(), min_fill, FORM_MAX_AGE, &s.key) {
        let notice = match e {
            FormToken::Invalid => "Форма устарела или пришла не с этой страницы: проверьте поля и отправьте её ещё раз.",
            FormToken::Expired => "Форма была открыта больше суток назад: проверьте поля и отправьте её ещё раз.",
            FormToken::TooFast => "Форма отправлена слишком быстро после открытия: проверьте поля и отправьте её ещё раз.",
        };
        return s.form(
            StatusCode::BAD_REQUEST,
            values,
            &form::Errors::new(),
            Some(notice),
        );
    }
    let checked = form::check(values, &s.cfg.desk.default_area_code);
    let files = match read_files(&up, &limits) {
        Ok(f) => f,
        Err(e) => {
            tracing::error!(error = %e, "web form: upload not read back");
            return unavailable();
        }
    };
    let (checked, files) = match (checked, files) {
        (Ok(c), Ok(f)) => (c, f),
        (c, f) => {
            let mut errors = c.err().unwrap_or_default();
            if let Err(why) = f {
                errors.insert("attachments", why);
            }
            return s.form(StatusCode::UNPROCESSABLE_ENTITY, values, &errors, None);
        }
    };
    let email = checked.email.clone();
    let appeal = NewAppeal {
        channel: Channel::Web,
        key: token.to_string(),
        requester: checked.email,
        subject: checked.subject,
        form: checked.form,
        text: String::new(),
        files,
        registered_by: None,
    };
    match s.handle.submit(Submission::Appeal(Box::new(appeal))).await {
        Ok(r) => match (r.outcome, r.ticket) {
            (Outcome::Created | Outcome::Duplicate, Some(id)) => {
                if r.outcome == Outcome::Created {
                    record(&s, ip);
                }
                let link = signed::status_link(s.web.base_url(), &id, &s.key);
                page(StatusCode::OK, pages::done(&id, &link, &email))
            }
            (outcome, _) => {
                tracing::warn!(
                    outcome = outcome.as_str(),
                    reason = r.reason.as_deref().unwrap_or("-"),
                    "web appeal not registered"
                );
                s.form(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    values,
                    &form::Errors::new(),
                    Some("Обращение не зарегистрировано (с вашего адреса недавно поступило много обращений). Напишите, пожалуйста, на адрес службы поддержки."),
                )
            }
        },
        Err(IngestError::Appeal(why)) => {
            tracing::info!(reason = %why, "web appeal refused");
            let mut errors = form::Errors::new();
            errors.insert(
                "email",
                "Этот адрес не подходит: укажите свой адрес электронной почты.".into(),
            );
            s.form(StatusCode::UNPROCESSABLE_ENTITY, values, &errors, None)
        }
        Err(e) => {
            tracing::error!(error = %e, "web appeal not stored");
            unavailable()
        }
    }
}

fn record(s: &WebState, ip: std::net::IpAddr) {
    s.limiter
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .record(ip, s.now());
}

fn unavailable() -> Response {
    page(
        StatusCode::SERVICE_UNAVAILABLE,
        pages::message(
            "Обращение не сохранено",
            "Сейчас не удалось сохранить обращение. Попробуйте через несколько минут или напишите на адрес службы поддержки.",
        ),
    )
}

/// The received files, judged as a letter's attachments are: `Ok(Ok)`
/// the files to submit, `Ok(Err)` why some are refused (the form says
/// so; the visitor chooses them again).
fn read_files(
    up: &upload::Upload,
    limits: &crate::parse::ParseLimits,
) -> std::io::Result<Result<Vec<AppealFile>, String>> {
    let mut refused = up.refused.clone();
    let mut raw = Vec::new();
    for f in &up.files {
        let data = std::fs::read(&f.path)?;
        raw.push(crate::parse::RawFile {
            name: Some(f.name.clone()),
            declared: f.declared.clone(),
            size: data.len(),
            data,
        });
    }
    let (kept, rejected, _) = crate::parse::attach::judge(raw, limits);
    for r in &rejected {
        refused.push(format!("«{}»: {}", r.filename, explain_refusal(&r.reason)));
    }
    if !refused.is_empty() {
        return Ok(Err(format!(
            "Файлы не приняты: {}. Можно приложить JPG, PNG, PDF или BMP; выберите файлы заново.",
            refused.join("; ")
        )));
    }
    Ok(Ok(kept
        .into_iter()
        .map(|a| AppealFile {
            filename: a.filename,
            content_type: a.content_type.to_string(),
            data: a.data,
        })
        .collect()))
}

/// A rejection's reason for the visitor (`type: …` → what it means).
fn explain_refusal(reason: &str) -> String {
    match reason.split_once(':') {
        Some(("type", _)) => "это не изображение JPG, PNG, BMP и не PDF".into(),
        Some(("size", _)) => "файл слишком большой".into(),
        Some(("count", _)) => "слишком много файлов".into(),
        Some(("name", why)) => why.trim().to_string(),
        _ => reason.to_string(),
    }
}
