//! Browser sessions: login with user name and password (or a one-time link), an HttpOnly SameSite
//! cookie (`Secure` behind TLS), a CSRF token per session for every form and a double-submit token
//! for the login form itself, and the extractor every page starts from.

use axum::Form;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use pbgdpl_catalog::User;
use pbgdpl_store::{Actor, AuditEvent};
use serde::Deserialize;

use crate::views::{Login, render};
use crate::{AppError, AppState};

pub(crate) const COOKIE: &str = "pbgdpl_session";
/// The login form's own CSRF token (there is no session yet to hold one).
const LOGIN_COOKIE: &str = "pbgdpl_login";
const SESSION_HOURS: i64 = 8;

/// The person behind the request's session cookie, with the session's CSRF token and where the
/// request came from.
pub(crate) struct SessionUser {
    pub user: User,
    pub csrf: String,
    pub from: Option<String>,
}

/// The client address of a request, for the audit log.
pub(crate) fn client(parts: &Parts) -> Option<String> {
    parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip().to_string())
}

/// The client address as an extractor (absent when the app runs without a socket, as in tests).
pub(crate) struct ClientAddr(pub(crate) Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(client(parts)))
    }
}

/// Only same-origin relative paths: a login must never send the browser to another site, and text a
/// browser would read differently from us (tabs, newlines, backslashes) is refused outright.
pub(crate) fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.chars().any(|c| c == '\\' || c.is_control() || c.is_whitespace()) =>
        {
            n.to_owned()
        }
        _ => "/".to_owned(),
    }
}

impl FromRequestParts<AppState> for SessionUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let jar = CookieJar::from_headers(&parts.headers);
        let token = jar.get(COOKIE).map(|c| c.value().to_owned());
        let now = state.now();
        let found = match token {
            Some(t) => state
                .blocking(move |st| Ok(st.store.session(&t, now)?))
                .await
                .map_err(IntoResponse::into_response)?,
            None => None,
        };
        match found {
            Some((user, csrf)) => {
                crate::WhoSlot::note(parts, &user.name);
                Ok(SessionUser {
                    user,
                    csrf,
                    from: client(parts),
                })
            }
            None => {
                let next = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
                let to = format!("/dang-nhap?next={}", urlencode(next));
                Err(Redirect::to(&to).into_response())
            }
        }
    }
}

pub(crate) fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl SessionUser {
    /// Checks a form's CSRF field against the session's token.
    pub(crate) fn check_csrf(&self, sent: &str) -> Result<(), AppError> {
        if !sent.is_empty() && sent == self.csrf {
            Ok(())
        } else {
            Err(csrf_refused())
        }
    }

    /// The audit actor of this request.
    pub(crate) fn actor(&self, state: &AppState) -> Actor {
        Actor {
            user: Some(self.user.name.clone()),
            from: self.from.clone(),
            at: state.now(),
        }
    }
}

fn csrf_refused() -> AppError {
    AppError::Forbidden("Phiên làm việc không hợp lệ (CSRF); hãy tải lại trang và gửi lại".into())
}

fn cookie(state: &AppState, name: &'static str, value: String, max_age_secs: i64) -> Cookie<'static> {
    Cookie::build((name, value))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.config().secure_cookies)
        .max_age(time::Duration::seconds(max_age_secs))
        .build()
}

async fn start_session(state: &AppState, jar: CookieJar, name: String, next: &str) -> Result<Response, AppError> {
    let now = state.now();
    let (token, _) = state
        .blocking(move |st| Ok(st.store.create_session(&name, now, SESSION_HOURS)?))
        .await?;
    let jar = jar.add(cookie(state, COOKIE, token, SESSION_HOURS * 3600));
    Ok((jar, Redirect::to(next)).into_response())
}

#[derive(Deserialize, Default)]
pub(crate) struct Next {
    next: Option<String>,
    error: Option<String>,
}

pub(crate) async fn login_page(
    State(state): State<AppState>,
    jar: CookieJar,
    Query(q): Query<Next>,
) -> Result<Response, AppError> {
    let token = pbgdpl_store::random_token("f")?;
    let page = Login {
        next: safe_next(q.next.as_deref()),
        error: q.error.is_some(),
        csrf: token.clone(),
        province: state.catalog.province.name.clone(),
    };
    let jar = jar.add(cookie(&state, LOGIN_COOKIE, token, 3600));
    Ok((jar, Html(render(&page)?)).into_response())
}

#[derive(Deserialize)]
pub(crate) struct LoginForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
    next: Option<String>,
    #[serde(default)]
    csrf: String,
}

pub(crate) async fn login(
    State(state): State<AppState>,
    jar: CookieJar,
    ClientAddr(from): ClientAddr,
    form: Result<Form<LoginForm>, axum::extract::rejection::FormRejection>,
) -> Result<Response, AppError> {
    let Form(f) = form.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let expected = jar.get(LOGIN_COOKIE).map(|c| c.value().to_owned()).unwrap_or_default();
    if f.csrf.is_empty() || f.csrf != expected {
        return Err(csrf_refused());
    }
    state.throttle.tidy();
    if let Err(wait) = state.throttle.attempt(&f.name, from.as_deref()) {
        return Err(AppError::TooManyRequests(wait.as_secs().max(1)));
    }
    let next = safe_next(f.next.as_deref());
    let (name, password) = (f.name, f.password);
    let at = state.now();
    // Argon2 is deliberately slow: keep it off the async workers.
    let user = state
        .blocking(move |st| {
            let user = st.store.check_password(&name, &password)?;
            let event = AuditEvent {
                action: if user.is_some() { "login" } else { "login.failed" }.into(),
                subject: Some(name.clone()),
                detail: None,
            };
            st.store.audit(
                &Actor {
                    user: user.as_ref().map(|u| u.name.clone()),
                    from,
                    at,
                },
                &event,
            )?;
            Ok(user)
        })
        .await?;
    match user {
        Some(u) => start_session(&state, jar, u.name, &next).await,
        None => Ok(Redirect::to(&format!("/dang-nhap?error=1&next={}", urlencode(&next))).into_response()),
    }
}

/// A one-time login link (`pbgdpl user link NAME`).
pub(crate) async fn login_link(
    State(state): State<AppState>,
    jar: CookieJar,
    Path(token): Path<String>,
    Query(q): Query<Next>,
) -> Result<Response, AppError> {
    let next = safe_next(q.next.as_deref());
    let now = state.now();
    match state
        .blocking(move |st| Ok(st.store.use_login_link(&token, now)?))
        .await?
    {
        Some(name) => start_session(&state, jar, name, &next).await,
        None => Err(AppError::Forbidden(
            "Liên kết đăng nhập đã hết hạn hoặc đã được dùng".into(),
        )),
    }
}

#[derive(Deserialize)]
pub(crate) struct CsrfForm {
    #[serde(default)]
    pub(crate) csrf: String,
}

pub(crate) async fn logout(
    State(state): State<AppState>,
    who: SessionUser,
    jar: CookieJar,
    Form(f): Form<CsrfForm>,
) -> Result<Response, AppError> {
    who.check_csrf(&f.csrf)?;
    if let Some(t) = jar.get(COOKIE).map(|c| c.value().to_owned()) {
        state.blocking(move |st| Ok(st.store.end_session(&t)?)).await?;
    }
    let jar = jar.remove(Cookie::build(COOKIE).path("/"));
    Ok((jar, Redirect::to("/dang-nhap")).into_response())
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
        for bad in [
            "//evil.example",
            "https://evil.example",
            "/\\evil",
            "evil",
            "/\t/evil.example/",
            "/\n/evil",
            "/a\u{7f}b",
            "/ /x",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad:?}");
        }
        assert_eq!(safe_next(None), "/");
    }
}
