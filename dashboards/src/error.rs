//! One error type for every handler, mapped once to an HTTP status by who must act: the user's
//! mistakes get their Vietnamese message and a 4xx, a store that cannot answer now a 503 with
//! `Retry-After`, and anything else a 500 with generic text while the cause goes to the log.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use pbgdpl_catalog::{Denied, Fault};

/// How long a client should wait before retrying a request the store could not take.
const RETRY_AFTER_SECS: &str = "5";

/// Errors of the web app.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    BadRequest(String),
    #[error("Cần đăng nhập (thiếu hoặc sai mã truy cập)")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    #[error("Không tìm thấy trang")]
    NotFound,
    #[error("Tệp hoặc nội dung gửi lên quá lớn (tối đa 20 MiB)")]
    TooLarge,
    #[error("Quá nhiều lần thử; hãy đợi {0} giây rồi thử lại")]
    TooManyRequests(u64),
    /// The store (or the upload workers) cannot take the request now; it may be retried.
    #[error("Hệ thống đang bận, vui lòng thử lại sau ít phút ({0})")]
    Unavailable(String),
    #[error("internal: {0}")]
    Internal(String),
}

impl AppError {
    /// Who must act, as the command line sorts it.
    pub fn fault(&self) -> Fault {
        match self {
            AppError::BadRequest(_)
            | AppError::Unauthorized
            | AppError::Forbidden(_)
            | AppError::NotFound
            | AppError::TooLarge
            | AppError::TooManyRequests(_) => Fault::Input,
            AppError::Unavailable(_) => Fault::Operator,
            AppError::Internal(_) => Fault::Bug,
        }
    }

    /// Sorts a library error by its fault: input is the user's to fix (400), the operator's means
    /// "not now" (503), anything else is a bug (500).
    fn from_fault(fault: Fault, message: String) -> AppError {
        match fault {
            Fault::Input => AppError::BadRequest(message),
            Fault::Operator => AppError::Unavailable(message),
            Fault::Catalog | Fault::Bug => AppError::Internal(message),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<Denied> for AppError {
    fn from(d: Denied) -> Self {
        AppError::Forbidden(d.0)
    }
}

impl From<pbgdpl_store::Error> for AppError {
    fn from(e: pbgdpl_store::Error) -> Self {
        AppError::from_fault(e.fault(), e.to_string())
    }
}

impl From<pbgdpl_ingest::Error> for AppError {
    fn from(e: pbgdpl_ingest::Error) -> Self {
        AppError::from_fault(e.fault(), e.to_string())
    }
}

impl From<pbgdpl_engine::Error> for AppError {
    fn from(e: pbgdpl_engine::Error) -> Self {
        AppError::from_fault(e.fault(), e.to_string())
    }
}

impl From<pbgdpl_surveys::Error> for AppError {
    fn from(e: pbgdpl_surveys::Error) -> Self {
        AppError::from_fault(e.fault(), e.to_string())
    }
}

impl From<pbgdpl_reports::Error> for AppError {
    fn from(e: pbgdpl_reports::Error) -> Self {
        AppError::from_fault(e.fault(), e.to_string())
    }
}

impl From<askama::Error> for AppError {
    fn from(e: askama::Error) -> Self {
        AppError::Internal(format!("template: {e}"))
    }
}

impl From<tokio::task::JoinError> for AppError {
    fn from(e: tokio::task::JoinError) -> Self {
        AppError::Internal(format!("task: {e}"))
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = match &self {
            AppError::Internal(cause) => {
                tracing::error!(%cause, "internal error");
                "Lỗi hệ thống, vui lòng thử lại sau".to_owned()
            }
            AppError::Unavailable(cause) => {
                tracing::warn!(%cause, "unavailable");
                "Hệ thống đang bận, vui lòng thử lại sau ít phút".to_owned()
            }
            other => other.to_string(),
        };
        let mut res = (status, axum::Json(serde_json::json!({"error": message}))).into_response();
        match &self {
            AppError::Unavailable(_) => {
                res.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER_SECS));
            }
            AppError::TooManyRequests(secs) => {
                if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                    res.headers_mut().insert(header::RETRY_AFTER, v);
                }
            }
            _ => {}
        }
        res
    }
}
