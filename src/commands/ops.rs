//! The operator's commands: period locks, backup and restore, the audit log.

use std::path::Path;
use std::process::ExitCode;

use pbgdpl_catalog::local_date;
use pbgdpl_store::Actor;

use super::{Context, Usage};
use crate::args::PeriodCommand;

pub(crate) fn period(ctx: &Context, command: PeriodCommand) -> anyhow::Result<ExitCode> {
    let store = ctx.store()?;
    let by = |who: Option<String>| Actor {
        user: who,
        ..Actor::cli(ctx.clock.now())
    };
    match command {
        PeriodCommand::Lock { period, by: who } => {
            let period = period.code();
            if store.lock_period(&period, &by(who))? {
                println!("Đã khóa kỳ {period}: báo cáo gửi cho kỳ này sẽ bị từ chối.");
            } else {
                println!("Kỳ {period} đã khóa từ trước.");
            }
        }
        PeriodCommand::Unlock { period } => {
            let period = period.code();
            if store.unlock_period(&period, &by(None))? {
                println!("Đã mở khóa kỳ {period}.");
            } else {
                println!("Kỳ {period} không bị khóa.");
            }
        }
        PeriodCommand::List => {
            for l in store.period_locks()? {
                println!(
                    "{}\t{}\t{}",
                    l.period,
                    local_date(&l.locked_at),
                    l.locked_by.unwrap_or_default()
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn backup(ctx: &Context, file: &Path) -> anyhow::Result<ExitCode> {
    let store = ctx.store()?;
    store.backup(file)?;
    println!("Đã sao lưu vào {}", file.display());
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn restore(ctx: &Context, file: &Path) -> anyhow::Result<ExitCode> {
    if pbgdpl_store::is_database_url(&ctx.store_dir) {
        return Err(Usage("kho PostgreSQL được phục hồi bằng `pg_restore`, không bằng `pbgdpl restore`".into()).into());
    }
    if !file.is_file() {
        return Err(Usage(format!("không có tệp {}", file.display())).into());
    }
    let kept = pbgdpl_store::restore(&ctx.store_dir, file, &Actor::cli(ctx.clock.now()))?;
    println!(
        "Đã khôi phục từ {}; kho dữ liệu cũ giữ lại ở {}",
        file.display(),
        kept.display()
    );
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn audit(
    ctx: &Context,
    since: Option<chrono::NaiveDate>,
    limit: usize,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let store = ctx.store()?;
    // A day in Vietnam starts at 17:00 UTC the day before.
    let since = since.map(|d| pbgdpl_catalog::Clock::on(d).now() - chrono::Duration::hours(12));
    let log = store.audit_log(since, limit)?;
    if json {
        super::out(format!("{}\n", serde_json::to_string_pretty(&log)?))?;
    } else {
        let mut text = String::new();
        for l in log {
            text.push_str(&format!(
                "{}\t{}\t{}\t{}\t{}\t{}\n",
                l.at,
                l.user.unwrap_or_else(|| "-".into()),
                l.from.unwrap_or_else(|| "-".into()),
                l.action,
                l.subject.unwrap_or_default(),
                l.detail.unwrap_or_default()
            ));
        }
        super::out(text)?;
    }
    Ok(ExitCode::SUCCESS)
}
