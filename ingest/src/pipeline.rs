//! The ingest pipeline: files or JSON bodies → drafts → validation → one write transaction per
//! chunk, each return whole or not at all → one report entry per return (the `ingest --json` shape
//! of `interfaces.md`).

use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};
use pbgdpl_catalog::model::{Change, ImportSummary, ReturnReport, ReturnStatus};
use pbgdpl_catalog::{Catalog, Issue, Period, ReturnDraft, Rule, vietnam_date};
use pbgdpl_store::{Refused, Rejection, Store, Submission, sha256_hex};

use crate::read::isolate::{Worker, WorkerConfig};
use crate::read::{Limits, WorkbookOutcome, grid, returns_in};
use crate::validate::{Context, validate};
use crate::{Error, Result, io_err};

/// How to ingest.
#[derive(Debug, Clone)]
pub struct Options {
    pub dry_run: bool,
    /// Returns of another period are rejected (`period_mismatch`).
    pub period: Option<String>,
    /// Returns of a unit other than this one or the units under it are rejected (`unit_mismatch`).
    pub unit: Option<String>,
    /// When the returns arrived (the server's clock, or `ingest --received-at`).
    pub received_at: DateTime<Utc>,
    /// Today in Vietnam, for the `future_period` and completion-date checks (the clock's date, even
    /// when `received_at` is backdated).
    pub today: NaiveDate,
    pub submitted_by: Option<String>,
    /// `file`, `api` or `web`.
    pub source: String,
    /// The client address the returns came from (web, API).
    pub client: Option<String>,
    pub limits: Limits,
    /// Parse workbooks in a bounded worker process (see `read::isolate`); `None` parses in this
    /// process, for trusted files and tests.
    pub isolation: Option<WorkerConfig>,
}

impl Options {
    /// Files ingested at `received_at` (which is also today), stored for real, parsed in this process.
    pub fn received(received_at: DateTime<Utc>) -> Options {
        Options {
            dry_run: false,
            period: None,
            unit: None,
            received_at,
            today: vietnam_date(received_at),
            submitted_by: None,
            source: "file".into(),
            client: None,
            limits: Limits::default(),
            isolation: None,
        }
    }
}

/// Every file under the given paths: files as given, folders walked recursively (sorted). Hidden
/// files and Office lock files (`~$…`) are not returns and are left out, but counted in `skipped`;
/// every other file is read by its content whatever its extension, so one that is not a workbook
/// is listed as such rather than passed over.
pub fn collect_files(paths: &[PathBuf]) -> Result<Collected> {
    let mut out = Collected::default();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(io_err(p))?;
        if meta.is_dir() {
            walk(p, &mut out)?;
        } else {
            out.files.push(p.clone());
        }
    }
    Ok(out)
}

/// The files a bulk ingest reads, and the ones it leaves out on purpose.
#[derive(Debug, Clone, Default)]
pub struct Collected {
    pub files: Vec<PathBuf>,
    /// Hidden files and Office lock files found in the folders.
    pub skipped: Vec<PathBuf>,
}

fn walk(dir: &Path, out: &mut Collected) -> Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io_err(dir))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for path in entries {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name.starts_with('.') || name.starts_with("~$") {
            out.skipped.push(path);
        } else if path.is_dir() {
            walk(&path, out)?;
        } else {
            out.files.push(path);
        }
    }
    Ok(())
}

/// A return waiting for validation and storage.
struct Pending {
    draft: ReturnDraft,
    issues: Vec<Issue>,
    file_sha256: Option<String>,
}

/// Reads, validates and stores the returns in the given files. `progress` is called after each file.
pub fn ingest_files(
    catalog: &Catalog,
    store: &dyn Store,
    files: &[PathBuf],
    opts: &Options,
    progress: &mut dyn FnMut(usize, &Path),
) -> Result<ImportSummary> {
    // Reading is the costly part and every file is independent: one reader (and worker process) per
    // core. Results are taken in file order, so that versions and summaries do not depend on timing,
    // and stored as they come, a chunk at a time: a long import that is stopped keeps what it had
    // committed, and memory does not grow with the folder.
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 4)
        .min(files.len().max(1));
    let mut slots: Vec<Option<Result<FileRead>>> = (0..files.len()).map(|_| None).collect();
    let (mut next, mut pending, mut rejected_files, mut returns) = (0, Vec::new(), Vec::new(), Vec::new());
    let store_pending = |pending: &mut Vec<Pending>, returns: &mut Vec<ReturnReport>| -> Result<()> {
        returns.extend(finish(catalog, store, std::mem::take(pending), opts)?.returns);
        Ok(())
    };
    std::thread::scope(|scope| -> Result<()> {
        let (tx, rx) = std::sync::mpsc::channel();
        for t in 0..threads {
            let tx = tx.clone();
            scope.spawn(move || {
                let mut worker = opts.isolation.clone().map(Worker::new);
                for (i, path) in files.iter().enumerate().skip(t).step_by(threads) {
                    if tx.send((i, read_file(worker.as_mut(), catalog, path, opts))).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        for (done, (i, result)) in rx.into_iter().enumerate() {
            slots[i] = Some(result);
            progress(done + 1, &files[i]);
            while let Some(slot) = slots.get_mut(next).and_then(Option::take) {
                next += 1;
                match slot? {
                    FileRead::Rejected(report) => {
                        if !opts.dry_run {
                            store.log_rejection(&Rejection {
                                file_name: report.file.as_deref(),
                                issues: &report.errors,
                                ..rejection(opts)
                            })?;
                        }
                        rejected_files.push(report);
                    }
                    FileRead::Returns(mut p) => pending.append(&mut p),
                }
                if pending.len() >= COMMIT_EVERY {
                    store_pending(&mut pending, &mut returns)?;
                }
            }
        }
        Ok(())
    })?;
    if next < files.len() {
        return Err(Error::Internal("a file was not read".into()));
    }
    store_pending(&mut pending, &mut returns)?;
    // Files that could not be read come first in the summary: they are what needs attention.
    rejected_files.append(&mut returns);
    Ok(ImportSummary {
        returns: rejected_files,
    })
}

/// Returns validated and stored at once during a bulk import: one write transaction each, few enough
/// to be fast, small enough that a stopped import loses little.
const COMMIT_EVERY: usize = 200;

/// What reading one file gave.
enum FileRead {
    Rejected(ReturnReport),
    Returns(Vec<Pending>),
}

fn read_file(worker: Option<&mut Worker>, catalog: &Catalog, path: &Path, opts: &Options) -> Result<FileRead> {
    let display = path.to_string_lossy().into_owned();
    let bytes = match grid::read_bytes(path, &opts.limits).map_err(io_err(path))? {
        Err(issue) => return Ok(FileRead::Rejected(rejected_file(&display, issue))),
        Ok(bytes) => bytes,
    };
    let sha = sha256_hex(&bytes);
    Ok(match read_with(worker, catalog, &display, &bytes, &opts.limits) {
        WorkbookOutcome::FileRejected(issue) => FileRead::Rejected(rejected_file(&display, issue)),
        WorkbookOutcome::Returns(rs) => FileRead::Returns(
            rs.into_iter()
                .map(|(draft, issues)| Pending {
                    draft,
                    issues,
                    file_sha256: Some(sha.clone()),
                })
                .collect(),
        ),
    })
}

/// Validates and stores drafts that came from somewhere else than files (the JSON API).
pub fn ingest_drafts(
    catalog: &Catalog,
    store: &dyn Store,
    drafts: Vec<ReturnDraft>,
    opts: &Options,
) -> Result<ImportSummary> {
    let pending = drafts
        .into_iter()
        .map(|draft| Pending {
            draft,
            issues: Vec::new(),
            file_sha256: None,
        })
        .collect();
    finish(catalog, store, pending, opts)
}

/// Reads a workbook in the worker when there is one, else in this process.
fn read_with(
    worker: Option<&mut Worker>,
    catalog: &Catalog,
    file: &str,
    bytes: &[u8],
    limits: &Limits,
) -> WorkbookOutcome {
    let sheets = match worker {
        Some(w) => w.read_sheets(bytes),
        None => grid::read_sheets(bytes, limits),
    };
    returns_in(catalog, file, sheets)
}

/// Reads the returns of one uploaded workbook (bytes already in memory) and stores them. `worker`
/// parses the file out of process; a server must always pass one.
pub fn ingest_upload(
    catalog: &Catalog,
    store: &dyn Store,
    file_name: &str,
    bytes: &[u8],
    opts: &Options,
    worker: Option<&mut Worker>,
) -> Result<ImportSummary> {
    let sha = sha256_hex(bytes);
    match read_with(worker, catalog, file_name, bytes, &opts.limits) {
        WorkbookOutcome::FileRejected(issue) => {
            let report = rejected_file(file_name, issue);
            if !opts.dry_run {
                store.log_rejection(&Rejection {
                    file_name: Some(file_name),
                    file_sha256: Some(&sha),
                    issues: &report.errors,
                    ..rejection(opts)
                })?;
            }
            Ok(ImportSummary { returns: vec![report] })
        }
        WorkbookOutcome::Returns(rs) => {
            let pending = rs
                .into_iter()
                .map(|(draft, issues)| Pending {
                    draft,
                    issues,
                    file_sha256: Some(sha.clone()),
                })
                .collect();
            finish(catalog, store, pending, opts)
        }
    }
}

/// The audit-log fields every rejection of this import shares.
fn rejection(opts: &Options) -> Rejection<'_> {
    Rejection {
        unit: None,
        form: None,
        period: None,
        received_at: opts.received_at,
        submitted_by: opts.submitted_by.as_deref(),
        source: &opts.source,
        file_name: None,
        file_sha256: None,
        issues: &[],
    }
}

fn rejected_file(file: &str, issue: Issue) -> ReturnReport {
    ReturnReport {
        file: Some(file.to_owned()),
        sheet: issue.sheet.clone(),
        form: None,
        unit: None,
        period: None,
        status: ReturnStatus::Rejected,
        version: None,
        errors: vec![issue],
        warnings: Vec::new(),
        changed: Vec::new(),
    }
}

/// The refusal a locked period gets, from validation or from the store's own check at commit.
pub fn period_locked(period: &str) -> Issue {
    Issue::error(
        Rule::PeriodLocked,
        format!("Kỳ {period} đã khóa sau khi gửi báo cáo; cần Sở Tư pháp mở khóa để sửa"),
    )
}

fn finish(catalog: &Catalog, store: &dyn Store, pending: Vec<Pending>, opts: &Options) -> Result<ImportSummary> {
    let locked: Vec<String> = store.period_locks()?.into_iter().map(|l| l.period).collect();
    let mut reports = Vec::with_capacity(pending.len());
    let mut to_store: Vec<(usize, Submission)> = Vec::new();
    for Pending {
        mut draft,
        mut issues,
        file_sha256,
    } in pending
    {
        let previous = previous_values(catalog, store, &draft)?;
        let ctx = Context {
            today: Some(opts.today),
            unit: opts.unit.clone(),
            period: opts.period.clone(),
            previous,
            locked_periods: locked.clone(),
        };
        issues.extend(validate(catalog, &mut draft, &ctx));
        let (errors, warnings): (Vec<Issue>, Vec<Issue>) = issues.into_iter().partition(Issue::is_error);
        let report = ReturnReport {
            file: draft.file.clone(),
            sheet: draft.sheet.clone(),
            form: draft.form.clone(),
            unit: draft.unit.clone(),
            period: draft
                .period
                .as_deref()
                .and_then(Period::parse)
                .map(|p| p.code())
                .or(draft.period.clone()),
            status: if errors.is_empty() {
                ReturnStatus::Accepted
            } else {
                ReturnStatus::Rejected
            },
            version: None,
            errors,
            warnings,
            changed: Vec::new(),
        };
        if report.status == ReturnStatus::Accepted && !opts.dry_run {
            to_store.push((
                reports.len(),
                Submission {
                    unit: report.unit.clone().unwrap_or_default(),
                    form: report.form.clone().unwrap_or_default(),
                    period: report.period.clone().unwrap_or_default(),
                    values: draft.values,
                    warnings: report.warnings.clone(),
                    received_at: opts.received_at,
                    submitted_by: opts.submitted_by.clone(),
                    source: opts.source.clone(),
                    client: opts.client.clone(),
                    file_name: draft.file.clone(),
                    file_sha256: file_sha256.clone(),
                },
            ));
        } else if report.status == ReturnStatus::Rejected && !opts.dry_run {
            store.log_rejection(&Rejection {
                unit: report.unit.as_deref(),
                form: report.form.as_deref(),
                period: report.period.as_deref(),
                file_name: report.file.as_deref(),
                file_sha256: file_sha256.as_deref(),
                issues: &report.errors,
                ..rejection(opts)
            })?;
        }
        reports.push(report);
    }
    // One transaction per chunk keeps commits few (fast) while bounding the work lost to a crash.
    // A store that cannot take the write fails the import (an operator's problem, never a return's).
    for chunk in to_store.chunks(COMMIT_EVERY) {
        let subs: Vec<Submission> = chunk.iter().map(|(_, s)| s.clone()).collect();
        let results = store.submit(&subs)?;
        for ((i, sub), result) in chunk.iter().zip(results) {
            let report = &mut reports[*i];
            match result {
                Ok(stored) => {
                    report.version = Some(stored.version);
                    if !stored.new_version {
                        report.status = ReturnStatus::Unchanged;
                    }
                    report.changed = stored
                        .changed
                        .into_iter()
                        .map(|(row, column, before, after)| Change {
                            row,
                            column,
                            before,
                            after,
                        })
                        .collect();
                }
                Err(Refused::PeriodLocked) => {
                    report.status = ReturnStatus::Rejected;
                    report
                        .errors
                        .push(period_locked(&sub.period).at(report.sheet.as_deref(), None));
                }
            }
        }
    }
    Ok(ImportSummary { returns: reports })
}

/// The unit's latest values for the same kind of period a year earlier, for the `jump` warning.
fn previous_values(
    catalog: &Catalog,
    store: &dyn Store,
    draft: &ReturnDraft,
) -> Result<std::collections::HashMap<(String, u32), i64>> {
    let mut out = std::collections::HashMap::new();
    let (Some(unit), Some(form), Some(period)) = (
        &draft.unit,
        &draft.form,
        draft.period.as_deref().and_then(Period::parse),
    ) else {
        return Ok(out);
    };
    if catalog.form(form).is_none() {
        return Ok(out);
    }
    for v in store.latest_return_values(unit, form, &period.previous_year().code())? {
        if let Some(n) = v.value.as_i64() {
            out.insert((v.row, v.column), n);
        }
    }
    Ok(out)
}
