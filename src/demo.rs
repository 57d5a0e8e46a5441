//! `pbgdpl demo`: the README's main job on a store of its own — generated returns for the bundled
//! province ingested (three periods, some late, a few missing), indicators, the report, dashboards.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use pbgdpl_engine::PeriodSpec;
use pbgdpl_ingest::catalog::{Period, SenderLevel};
use pbgdpl_ingest::pipeline::Options;
use pbgdpl_ingest::{Catalog, Store};

pub(crate) fn run(
    rt: &tokio::runtime::Runtime,
    catalog: Arc<Catalog>,
    store_dir: &Path,
    out: &Path,
    addr: &str,
    serve: bool,
) -> anyhow::Result<ExitCode> {
    if store_dir.exists() {
        std::fs::remove_dir_all(store_dir).with_context(|| format!("{}", store_dir.display()))?;
    }
    let mut store = Store::open(store_dir)?;
    let returns_dir = store_dir.join("returns");
    let periods = ["2025", "2026S1", "2026P"].map(|p| {
        Period::parse(p).unwrap_or(Period {
            year: 2026,
            kind: pbgdpl_ingest::catalog::PeriodKind::Semiannual,
        })
    });
    for period in &periods {
        let generated = pbgdpl_fixtures::generate::generate(&catalog, period, 7, 0.04);
        let dir = returns_dir.join(period.code());
        let files = pbgdpl_fixtures::generate::write_workbooks(&catalog, period, &generated, &dir)?;
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
                received_at: day.and_hms_opt(3, 0, 0).unwrap_or_default().and_utc(),
                isolation: crate::cli::worker_config(),
                ..Options::default()
            };
            let summary = crate::cli::ingest_with_progress(&catalog, &mut store, &files, &opts, true)?;
            let rejected = summary
                .returns
                .iter()
                .filter(|r| r.status == pbgdpl_ingest::pipeline::Status::Rejected)
                .count();
            println!(
                "Kỳ {}: đã nhận {} báo cáo, từ chối {}",
                period.code(),
                summary.returns.len() - rejected,
                rejected
            );
        }
    }
    let latest = periods[periods.len() - 1];
    let engine = crate::cli::engine_for(&catalog, &store)?;
    let values = rt.block_on(engine.indicators(&PeriodSpec::Single(latest), &catalog.province.code))?;
    let province: Vec<_> = values.into_iter().filter(|v| v.unit == catalog.province.code).collect();
    crate::cli::print_indicators(&province, crate::cli::TableFormat::Table)?;
    for f in crate::cli::write_report(rt, &catalog, &store, &latest, &catalog.province.code, out)? {
        println!("Báo cáo: {}", f.display());
    }
    drop(store);
    if serve {
        println!("Nhấn Ctrl-C để dừng.");
        // The demo's own administrator, with a login link valid for a day (pages need a session).
        let mut store = Store::open(store_dir)?;
        store.add_user("admin", "admin", None)?;
        let link = format!("/dang-nhap/lien-ket/{}", store.create_login_link("admin", 24 * 60)?);
        drop(store);
        rt.block_on(crate::cli::serve(catalog, store_dir.to_owned(), addr, Some(link)))?;
    }
    Ok(ExitCode::SUCCESS)
}
