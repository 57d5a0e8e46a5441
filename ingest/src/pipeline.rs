//! The ingest pipeline: files or JSON bodies → drafts → validation → one batched, per-return atomic
//! commit → one report entry per return (the `ingest --json` shape of `interfaces.md`).

use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::catalog::{Catalog, Period};
use crate::model::{CellValue, Issue, ReturnDraft, Value};
use crate::read::isolate::{Worker, WorkerConfig};
use crate::read::{Limits, WorkbookOutcome, grid, returns_in};
use crate::store::{Rejection, Store, Submission, sha256_hex};
use crate::validate::{Context, validate};
use crate::{Error, Result, io_err};

/// What happened to one return.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = ReturnStatus))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Accepted,
    Unchanged,
    Rejected,
}

/// One entry of an import summary.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReturnReport {
    pub file: Option<String>,
    pub sheet: Option<String>,
    pub form: Option<String>,
    pub unit: Option<String>,
    pub period: Option<String>,
    pub status: Status,
    pub version: Option<i64>,
    pub errors: Vec<Issue>,
    pub warnings: Vec<Issue>,
    /// For a new version: the cells whose value changed against the previous one.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub changed: Vec<Change>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Change {
    pub row: String,
    pub column: u32,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// An import summary: `{"returns": [...]}`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ImportSummary {
    pub returns: Vec<ReturnReport>,
}

impl ImportSummary {
    pub fn any_rejected(&self) -> bool {
        self.returns.iter().any(|r| r.status == Status::Rejected)
    }
}

/// How to ingest.
#[derive(Debug, Clone)]
pub struct Options {
    pub dry_run: bool,
    /// Returns of another period are rejected (`period_mismatch`).
    pub period: Option<String>,
    /// Returns of another unit are rejected (`unit_mismatch`).
    pub unit: Option<String>,
    pub received_at: DateTime<Utc>,
    pub today: NaiveDate,
    pub submitted_by: Option<String>,
    /// `file`, `api` or `web`.
    pub source: String,
    pub limits: Limits,
    /// Parse workbooks in a bounded worker process (see `read::isolate`); `None` parses in this
    /// process, for trusted files and tests.
    pub isolation: Option<WorkerConfig>,
}

impl Default for Options {
    fn default() -> Self {
        let now = Utc::now();
        Options {
            dry_run: false,
            period: None,
            unit: None,
            received_at: now,
            today: now.date_naive(),
            submitted_by: None,
            source: "file".into(),
            limits: Limits::default(),
            isolation: None,
        }
    }
}

/// A return sent as JSON through the API.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JsonReturn {
    pub form: String,
    pub unit: String,
    pub period: String,
    pub values: Vec<JsonValue>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JsonValue {
    pub row: String,
    pub column: u32,
    pub value: Value,
}

impl JsonReturn {
    pub fn into_draft(self) -> ReturnDraft {
        ReturnDraft {
            form: Some(self.form),
            unit: Some(self.unit),
            period: Some(self.period),
            values: self
                .values
                .into_iter()
                .map(|v| CellValue {
                    row: v.row,
                    column: v.column,
                    value: v.value,
                    cell: None,
                })
                .collect(),
            ..ReturnDraft::default()
        }
    }
}

/// Every file under the given paths: files as given, folders walked recursively for spreadsheet
/// files (sorted, hidden files and lock files skipped).
pub fn collect_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(io_err(p))?;
        if meta.is_dir() {
            walk(p, &mut out)?;
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
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
            continue;
        }
        if path.is_dir() {
            walk(&path, out)?;
        } else {
            let ext = path
                .extension()
                .map(|e| e.to_string_lossy().to_lowercase())
                .unwrap_or_default();
            if matches!(ext.as_str(), "xlsx" | "xlsm" | "xls" | "ods") {
                out.push(path);
            }
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
    store: &mut Store,
    files: &[PathBuf],
    opts: &Options,
    progress: &mut dyn FnMut(usize, &Path),
) -> Result<ImportSummary> {
    // Reading is the costly part and every file is independent: one reader (and worker process) per
    // core, results put back in file order so that versions and summaries do not depend on timing.
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 4)
        .min(files.len().max(1));
    let mut slots: Vec<Option<Result<FileRead>>> = (0..files.len()).map(|_| None).collect();
    std::thread::scope(|scope| {
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
        }
    });
    let mut pending = Vec::new();
    let mut reports = Vec::new();
    for slot in slots {
        match slot.ok_or_else(|| Error::StoreData("a file was not read".into()))?? {
            FileRead::Rejected(report) => reports.push(report),
            FileRead::Returns(mut p) => pending.append(&mut p),
        }
    }
    for r in &reports {
        if !opts.dry_run {
            store.log_rejection(&Rejection {
                file_name: r.file.as_deref(),
                issues: &r.errors,
                ..rejection(opts)
            })?;
        }
    }
    let mut summary = finish(catalog, store, pending, opts)?;
    reports.append(&mut summary.returns);
    Ok(ImportSummary { returns: reports })
}

/// What reading one file gave.
enum FileRead {
    Rejected(ReturnReport),
    Returns(Vec<Pending>),
}

fn read_file(worker: Option<&mut Worker>, catalog: &Catalog, path: &Path, opts: &Options) -> Result<FileRead> {
    let display = path.to_string_lossy().into_owned();
    let bytes = match crate::read::grid::read_bytes(path, &opts.limits).map_err(io_err(path))? {
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
    store: &mut Store,
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
    store: &mut Store,
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
        status: Status::Rejected,
        version: None,
        errors: vec![issue],
        warnings: Vec::new(),
        changed: Vec::new(),
    }
}

fn finish(catalog: &Catalog, store: &mut Store, pending: Vec<Pending>, opts: &Options) -> Result<ImportSummary> {
    let locked = store.locked_periods()?;
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
                Status::Accepted
            } else {
                Status::Rejected
            },
            version: None,
            errors,
            warnings,
            changed: Vec::new(),
        };
        if report.status == Status::Accepted && !opts.dry_run {
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
                    file_name: draft.file.clone(),
                    file_sha256: file_sha256.clone(),
                },
            ));
        } else if report.status == Status::Rejected && !opts.dry_run {
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
    for chunk in to_store.chunks(1000) {
        let subs: Vec<Submission> = chunk.iter().map(|(_, s)| s.clone()).collect();
        let results = store.submit_batch(&subs)?;
        for ((i, _), result) in chunk.iter().zip(results) {
            let report = &mut reports[*i];
            match result {
                Ok(stored) => {
                    report.version = Some(stored.version);
                    if !stored.new_version {
                        report.status = Status::Unchanged;
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
                Err(e) => {
                    report.status = Status::Rejected;
                    report.errors.push(Issue::error(
                        crate::model::Rule::CorruptFile,
                        format!("Không lưu được báo cáo: {e}"),
                    ));
                }
            }
        }
    }
    Ok(ImportSummary { returns: reports })
}

/// The unit's latest values for the same kind of period a year earlier, for the `jump` warning.
fn previous_values(
    catalog: &Catalog,
    store: &Store,
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
