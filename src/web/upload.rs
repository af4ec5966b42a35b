//! Reading the form's multipart body as it arrives: text fields bounded,
//! each file streamed to its own file on disk with the size limit
//! enforced while reading (a file over it stops being written at the
//! limit; its remaining bytes are read and dropped), never buffered whole.
//! The body as a whole is bounded by the router (`[mailbox]
//! max_letter_mb`): past that the request is refused (413).

use super::form::Values;
use axum::extract::multipart::{Multipart, MultipartError};
use std::path::{Path, PathBuf};
use tokio::io::AsyncWriteExt;

/// Longest text field read, bytes.
const MAX_FIELD: usize = 128 * 1024;

/// A file received, on disk until dropped.
#[derive(Debug)]
pub struct Received {
    pub name: String,
    pub declared: String,
    pub path: PathBuf,
    pub size: usize,
}

impl Drop for Received {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The form as received.
#[derive(Debug, Default)]
pub struct Upload {
    pub values: Values,
    pub files: Vec<Received>,
    /// Files not kept, with why (too large, too many), in Russian.
    pub refused: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("the request is larger than allowed")]
    TooLarge,
    #[error("unreadable form: {0}")]
    Bad(String),
    #[error("cannot write the upload: {0}")]
    Io(#[from] std::io::Error),
}

fn bad(e: MultipartError) -> UploadError {
    if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        UploadError::TooLarge
    } else {
        UploadError::Bad(e.body_text())
    }
}

/// Read the body: text fields into `values`, files `attachments` into
/// `dir`, at most `max_files` of at most `max_file` bytes each.
pub async fn read(
    mut mp: Multipart,
    dir: &Path,
    max_file: usize,
    max_files: usize,
) -> Result<Upload, UploadError> {
    let mut up = Upload::default();
    while let Some(mut field) = mp.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or_default().to_string();
        if name == "attachments" {
            let filename = field.file_name().unwrap_or_default().to_string();
            let declared = field
                .content_type()
                .unwrap_or("application/octet-stream")
                .to_string();
            if up.files.len() >= max_files {
                let mut any = false;
                while let Some(c) = field.chunk().await.map_err(bad)? {
                    any |= !c.is_empty();
                }
                if any || !filename.is_empty() {
                    up.refused
                        .push(format!("«{filename}»: больше {max_files} файлов"));
                }
                continue;
            }
            let path = dir.join(format!("{:032x}.part", rand::random::<u128>()));
            let mut out = tokio::fs::File::create(&path).await?;
            let mut rec = Received {
                name: filename,
                declared,
                path,
                size: 0,
            };
            let mut over = false;
            while let Some(c) = field.chunk().await.map_err(bad)? {
                rec.size += c.len();
                if rec.size > max_file {
                    over = true;
                    continue;
                }
                out.write_all(&c).await?;
            }
            out.flush().await?;
            drop(out);
            if over {
                up.refused.push(format!(
                    "«{}»: больше {} МБ",
                    rec.name,
                    max_file / (1024 * 1024)
                ));
            } else if rec.size > 0 || !rec.name.is_empty() {
                if rec.size == 0 {
                    up.refused.push(format!("«{}»: пустой файл", rec.name));
                } else {
                    up.files.push(rec);
                }
            }
        } else {
            let mut text = Vec::new();
            while let Some(c) = field.chunk().await.map_err(bad)? {
                if text.len() + c.len() > MAX_FIELD {
                    return Err(UploadError::Bad(format!(
                        "field `{name}` is longer than {MAX_FIELD} bytes"
                    )));
                }
                text.extend_from_slice(&c);
            }
            let text = String::from_utf8_lossy(&text).replace("\r\n", "\n");
            up.values.insert(name, text);
        }
    }
    Ok(up)
}
