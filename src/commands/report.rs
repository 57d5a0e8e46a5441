//! `pbgdpl report`: the Ministry report of a period, the workbook and the narrative document.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use pbgdpl_catalog::Period;
use pbgdpl_engine::View;
use pbgdpl_store::Store;

use super::Context;

pub(crate) fn run(
    ctx: &Context,
    period: &Period,
    unit: Option<&str>,
    view: View,
    out: &Path,
) -> anyhow::Result<ExitCode> {
    let unit = ctx.unit_in(unit, view)?;
    let store = ctx.store()?;
    for f in write(ctx, &*store, period, &unit, view, out)? {
        println!("{}", f.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes both report files into `out`; their paths.
pub(crate) fn write(
    ctx: &Context,
    store: &dyn Store,
    period: &Period,
    unit: &str,
    view: View,
    out: &Path,
) -> anyhow::Result<Vec<PathBuf>> {
    let engine = ctx.engine(store, &pbgdpl_reports::bundle::Report::periods(*period))?;
    let (xlsx, docx) = ctx.rt.block_on(pbgdpl_reports::bundle::report_files(
        &engine,
        *period,
        unit,
        view,
        ctx.clock.today(),
    ))?;
    std::fs::create_dir_all(out).with_context(|| format!("{}", out.display()))?;
    let stem = pbgdpl_reports::bundle::file_stem(unit, period);
    let mut written = Vec::new();
    for (ext, bytes) in [("xlsx", xlsx), ("docx", docx)] {
        let path = out.join(format!("{stem}.{ext}"));
        std::fs::write(&path, bytes).with_context(|| format!("{}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}
