//! Browser sessions: login with user name and password (or a one-time link), an HttpOnly SameSite
//! cookie, a CSRF token per session for every form, and the page-level role checks.

use axum::Form;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use pbgdpl_ingest::store::User;
use serde::Deserialize;

use crate::pages::esc;
use crate::{AppError, AppState};

pub(crate) const COOKIE: &str = "pbgdpl_session";
const SESSION_HOURS: i64 = 8;

/// The person behind the request's session cookie, with the session's CSRF token.
pub(crate) struct SessionUser {
    pub user: User,
    pub csrf: String,
}

fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.to_owned())
}

/// Only local paths: a login must never send the browser to another site.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_owned(),
        _ => "/".to_owned(),
    }
}

impl FromRequestParts<AppState> for SessionUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let found = cookie_token(&parts.headers).and_then(|t| state.store().ok()?.session(&t).ok().flatten());
        match found {
            Some((user, csrf)) => Ok(SessionUser { user, csrf }),
            None => {
                let next = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
                let to = format!("/dang-nhap?next={}", urlencode(next));
                Err(Redirect::to(&to).into_response())
            }
        }
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl SessionUser {
    /// May this person see a unit's own figures and returns? Admins and viewers every unit; a
    /// reporter the province level and its own unit.
    pub(crate) fn may_view(&self, unit: &str, province: &str) -> bool {
        self.user.role != "reporter" || unit == province || self.user.unit.as_deref() == Some(unit)
    }

    /// May this person see other units' figures beside the one shown (rankings, listings)?
    pub(crate) fn sees_all_units(&self) -> bool {
        self.user.role != "reporter"
    }

    /// Checks a form's CSRF field against the session's token.
    pub(crate) fn check_csrf(&self, sent: &str) -> Result<(), AppError> {
        if !sent.is_empty() && sent == self.csrf {
            Ok(())
        } else {
            Err(AppError::Forbidden(
                "Phiên làm việc không hợp lệ (CSRF); hãy tải lại trang và gửi lại".into(),
            ))
        }
    }
}

fn session_cookie(token: &str, max_age: i64) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn start_session(state: &AppState, name: &str, next: &str) -> Result<Response, AppError> {
    let (token, _) = state.store()?.create_session(name, SESSION_HOURS)?;
    let mut res = Redirect::to(next).into_response();
    res.headers_mut()
        .insert(header::SET_COOKIE, session_cookie(&token, SESSION_HOURS * 3600));
    Ok(res)
}

#[derive(Deserialize, Default)]
pub(crate) struct Next {
    next: Option<String>,
    error: Option<String>,
}

pub(crate) async fn login_page(Query(q): Query<Next>) -> Html<String> {
    let next = safe_next(q.next.as_deref());
    let error = if q.error.is_some() {
        "<p class=\"error\">Sai tên đăng nhập hoặc mật khẩu.</p>"
    } else {
        ""
    };
    Html(format!(
        "<!doctype html><html lang=\"vi\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Đăng nhập — PBGDPL</title><style>body{{font-family:'Times New Roman',serif;background:#f5f7fa;display:flex;justify-content:center;padding-top:10vh}}\
         form{{background:#fff;padding:2rem;border-top:6px solid #8b0000;border-radius:8px;min-width:18rem}}label{{display:block;margin:.6rem 0}}\
         input{{width:100%;padding:.4rem}}.error{{color:#cf222e}}</style></head><body><form method=\"post\" action=\"/dang-nhap\">\
         <h1>Đăng nhập</h1>{error}<input type=\"hidden\" name=\"next\" value=\"{next}\">\
         <label>Tên đăng nhập <input name=\"name\" autocomplete=\"username\" required></label>\
         <label>Mật khẩu <input name=\"password\" type=\"password\" autocomplete=\"current-password\" required></label>\
         <button>Đăng nhập</button></form></body></html>",
        next = esc(&next),
    ))
}

#[derive(Deserialize)]
pub(crate) struct Login {
    name: String,
    password: String,
    next: Option<String>,
}

pub(crate) async fn login(State(state): State<AppState>, Form(f): Form<Login>) -> Result<Response, AppError> {
    let next = safe_next(f.next.as_deref());
    let st = state.clone();
    // Argon2 is deliberately slow: keep it off the async workers.
    let user =
        tokio::task::spawn_blocking(move || st.store()?.check_password(&f.name, &f.password).map_err(AppError::from))
            .await
            .map_err(|e| AppError::Internal(e.to_string()))??;
    match user {
        Some(u) => start_session(&state, &u.name, &next),
        None => Ok(Redirect::to(&format!("/dang-nhap?error=1&next={}", urlencode(&next))).into_response()),
    }
}

/// A one-time login link (`pbgdpl user link NAME`).
pub(crate) async fn login_link(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Query(q): Query<Next>,
) -> Result<Response, AppError> {
    let next = safe_next(q.next.as_deref());
    match state.store()?.use_login_link(&token)? {
        Some(name) => start_session(&state, &name, &next),
        None => Ok((
            StatusCode::FORBIDDEN,
            Html("<p>Liên kết đăng nhập đã hết hạn hoặc đã được dùng.</p>".to_owned()),
        )
            .into_response()),
    }
}

#[derive(Deserialize)]
pub(crate) struct CsrfForm {
    csrf: String,
}

pub(crate) async fn logout(
    State(state): State<AppState>,
    who: SessionUser,
    headers: HeaderMap,
    Form(f): Form<CsrfForm>,
) -> Result<Response, AppError> {
    who.check_csrf(&f.csrf)?;
    if let Some(t) = cookie_token(&headers) {
        state.store()?.end_session(&t)?;
    }
    let mut res = Redirect::to("/dang-nhap").into_response();
    res.headers_mut().insert(header::SET_COOKIE, session_cookie("", 0));
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_login_only_redirects_to_local_paths() {
        assert_eq!(
            safe_next(Some("/chi-tieu/CDS-1?period=2026S1")),
            "/chi-tieu/CDS-1?period=2026S1"
        );
        for bad in ["//evil.example", "https://evil.example", "/\\evil", "evil"] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad}");
        }
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn the_session_cookie_is_read_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; pbgdpl_session=s_abc; b=2"),
        );
        assert_eq!(cookie_token(&h).as_deref(), Some("s_abc"));
    }
}
