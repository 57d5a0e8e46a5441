//! `pbgdpl serve`: the web app and API until SIGINT (Ctrl-C) or SIGTERM (`systemctl stop`,
//! `docker stop`); both let requests in flight finish before the process exits.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context as _;

use super::Context;

/// Serves the app. `login` is a path to print beside the address (the demo's one-time login link).
pub(crate) fn run(ctx: &Context, addr: &str, secure_cookies: bool, login: Option<String>) -> anyhow::Result<ExitCode> {
    let store = ctx.store()?;
    let config = pbgdpl_dashboards::Config {
        worker: crate::worker::config(),
        clock: ctx.clock,
        secure_cookies,
        ..pbgdpl_dashboards::Config::default()
    };
    let state = pbgdpl_dashboards::AppState::new(ctx.catalog.clone(), store, config)?;
    ctx.rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("không mở được địa chỉ {addr}"))?;
        let local = listener.local_addr()?;
        println!("Bảng điều khiển: http://{local}/");
        if let Some(path) = login {
            println!("Đăng nhập (liên kết dùng một lần): http://{local}{path}");
        }
        let _ = std::io::stdout().flush();
        pbgdpl_dashboards::serve(listener, state, shutdown_signal()).await?;
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Completes at the first SIGINT or SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
}
