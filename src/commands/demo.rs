//! `pbgdpl demo`: the README's main job on a store of its own — generated returns for the bundled
//! province ingested — the former units (old Quảng Ngãi's and Kon Tum's districts and communes) for
//! 2019 to mid-2025, today's since — some late, a few missing; the 2019–2026 timeline of today's
//! province, indicators, the report, dashboards.
//! It composes the other commands.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use pbgdpl_catalog::model::ReturnStatus;
use pbgdpl_catalog::{Clock, Period, PeriodSpec, Role, SenderLevel};
use pbgdpl_ingest::pipeline::Options;
use pbgdpl_store::Actor;

use super::{Context, Usage};

/// The file that marks a store folder as the demo's own: only such a folder is recreated.
const MARKER: &str = ".pbgdpl-demo";

/// Empties the demo's store folder, refusing a folder that holds anything the demo did not create.
fn fresh_store(dir: &Path) -> anyhow::Result<()> {
    if dir.exists() {
        let ours = dir.join(MARKER).is_file();
        let empty = std::fs::read_dir(dir)
            .with_context(|| format!("{}", dir.display()))?
            .next()
            .is_none();
        if !ours && !empty {
            return Err(Usage(format!(
                "{} đã có dữ liệu không do `pbgdpl demo` tạo ra; demo không xóa nó. Hãy chọn --store khác.",
                dir.display()
            ))
            .into());
        }
        std::fs::remove_dir_all(dir).with_context(|| format!("{}", dir.display()))?;
    }
    std::fs::create_dir_all(dir).with_context(|| format!("{}", dir.display()))?;
    std::fs::write(
        dir.join(MARKER),
        "Kho dữ liệu của `pbgdpl demo`: được tạo lại mỗi lần chạy.\n",
    )
    .with_context(|| format!("{}", dir.display()))?;
    Ok(())
}

pub(crate) fn run(ctx: Context, out: &Path, addr: &str, serve: bool) -> anyhow::Result<ExitCode> {
    if pbgdpl_store::is_database_url(&ctx.store_dir) {
        // The demo empties its store each run: never a database that may hold real returns.
        return Err(
            Usage("`demo` chạy trên kho nhúng của riêng nó (một thư mục), không trên PostgreSQL".into()).into(),
        );
    }
    fresh_store(&ctx.store_dir)?;
    let store = ctx.store()?;
    let catalog = &ctx.catalog;
    let returns_dir = ctx.store_dir.join("returns");
    // Đề án 471's years reported once a year; since 2025 the half-year and the preliminary year too.
    // 2025S1 ends on 30/06/2025, the last day of the old units.
    let periods: Vec<Period> = [
        "2019", "2020", "2021", "2022", "2023", "2024", "2025S1", "2025", "2026S1", "2026P",
    ]
    .iter()
    .filter_map(|p| Period::parse(p))
    .collect();
    for period in &periods {
        let generated = pbgdpl_fixtures::generate::generate(catalog, period, 7, 0.04);
        let dir = returns_dir.join(period.code());
        let files = pbgdpl_fixtures::generate::write_workbooks(catalog, period, &generated, &dir)?;
        // Most units send on time, one in eight late: the timeliness indicator has something to say.
        let deadline = period
            .deadline(&catalog.periods, SenderLevel::Commune)
            .context("calendar has no deadline")?;
        let (late, on_time): (Vec<_>, Vec<_>) = files.into_iter().enumerate().partition(|(i, _)| i % 8 == 3);
        for (files, day) in [
            (on_time, deadline - chrono::Duration::days(2)),
            (late, deadline + chrono::Duration::days(5)),
        ] {
            let files: Vec<_> = files.into_iter().map(|(_, f)| f).collect();
            let opts = Options {
                isolation: crate::worker::config(),
                today: ctx.clock.today(),
                ..Options::received(Clock::on(day).now())
            };
            let (summary, _) = super::ingest::with_progress(catalog, &*store, &files, &opts, true)?;
            let rejected = summary
                .returns
                .iter()
                .filter(|r| r.status == ReturnStatus::Rejected)
                .count();
            println!(
                "Kỳ {}: đã nhận {} báo cáo, từ chối {}",
                period.code(),
                summary.returns.len() - rejected,
                rejected
            );
        }
    }
    // The province's online survey of residents (CDS-5) in 2026: one Kobo export per period, a CSV
    // and an .xlsx, sent as a Sở Tư pháp would.
    let mut worker = crate::worker::config().map(pbgdpl_ingest::read::isolate::Worker::new);
    for (i, code) in ["2026S1", "2026P"].iter().enumerate() {
        let (Some(period), Some(survey)) = (Period::parse(code), catalog.surveys.first()) else {
            continue;
        };
        let rows: Vec<Vec<String>> =
            pbgdpl_fixtures::survey::generate(catalog, &catalog.province.code, &period, 31 + i as u64, 0.5)
                .into_iter()
                .map(|a| a.cells)
                .collect();
        let head = pbgdpl_fixtures::survey::header();
        let (name, bytes) = if i == 0 {
            (
                format!("khao-sat-{code}.csv"),
                pbgdpl_fixtures::survey::to_csv(&head, &rows, true),
            )
        } else {
            (
                format!("khao-sat-{code}.xlsx"),
                pbgdpl_fixtures::survey::to_xlsx(&head, &rows),
            )
        };
        std::fs::write(returns_dir.join(&name), &bytes)?;
        let opts = Options {
            today: ctx.clock.today(),
            ..Options::received(ctx.clock.now())
        };
        let file = pbgdpl_ingest::survey::SurveyFile {
            survey: &survey.code,
            period: code,
            name: &name,
            bytes: &bytes,
        };
        let report = pbgdpl_ingest::survey::ingest_survey(catalog, &*store, file, &opts, worker.as_mut())?;
        println!(
            "Khảo sát {} kỳ {code}: {} phiếu của {} xã, phường ({})",
            survey.code,
            report.respondents,
            report.units,
            if report.rejected() {
                "BỊ TỪ CHỐI"
            } else {
                "đã nhận"
            }
        );
    }
    drop(worker);
    let latest = periods.last().copied().context("no demo period")?;
    let engine = ctx.engine(&*store, &store.periods()?)?;
    let province_name = catalog
        .units
        .get(&catalog.province.code)
        .map(|u| u.name.clone())
        .unwrap_or_default();
    let mut timeline = Vec::new();
    for p in &periods {
        let values = ctx
            .rt
            .block_on(engine.indicators(&PeriodSpec::Single(*p), &catalog.province.code))?;
        let mine = values.into_iter().filter(|v| v.unit == catalog.province.code).collect();
        timeline.push((p.label(), mine));
    }
    println!("\n{province_name} (theo địa giới ngày nay) qua các kỳ:");
    print!(
        "{}",
        pbgdpl_reports::text::timeline(&["CDS-1", "CDS-2", "CDS-5", "HĐ-1", "HĐ-4", "BC-1", "NV-1"], &timeline)
    );
    println!();
    let values = ctx
        .rt
        .block_on(engine.indicators(&PeriodSpec::Single(latest), &catalog.province.code))?;
    let province: Vec<_> = values.into_iter().filter(|v| v.unit == catalog.province.code).collect();
    print!(
        "{}",
        pbgdpl_reports::text::indicators(&province, pbgdpl_reports::text::Format::Table)?
    );
    for f in super::report::write(
        &ctx,
        &*store,
        &latest,
        &catalog.province.code,
        pbgdpl_engine::View::Present,
        out,
    )? {
        println!("Báo cáo: {}", f.display());
    }
    if serve {
        println!("Nhấn Ctrl-C để dừng.");
        // The demo's own administrator, with a login link valid for a day (pages need a session).
        let by = Actor::cli(ctx.clock.now());
        store.add_user("admin", Role::Admin, None, &by)?;
        let link = format!(
            "/dang-nhap/lien-ket/{}",
            store.create_login_link("admin", ctx.clock.now(), 24 * 60)?
        );
        drop(store);
        super::serve::run(&ctx, addr, false, Some(link))?;
    }
    Ok(ExitCode::SUCCESS)
}
