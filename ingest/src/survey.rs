//! Survey files: a citizen survey's export (KoboToolbox, ODK, Google Forms; XLSX or CSV, one row per
//! respondent) read against its catalog definition, every bad row reported by row and cell, and the
//! file stored whole as a new version of (survey, period) — or nothing stored at all.
//!
//! ```text
//!  .csv (text, in process) ─┐
//!  .xlsx/.xls/.ods (worker) ┴► Table ─► columns by header ─► rows ─► SurveySubmission ─► Store
//! ```

use std::collections::{BTreeMap, HashSet};

use chrono::NaiveDate;
use pbgdpl_catalog::model::{SurveyRow, SurveySubmission, a1};
use pbgdpl_catalog::text::{clean, fold};
use pbgdpl_catalog::{Catalog, Issue, Period, Rule, Survey, Unit, column_matches};
use pbgdpl_store::{Refused, Rejection, Store, sha256_hex};
use serde::Serialize;

use crate::Result;
use crate::pipeline::{Options, period_locked};
use crate::read::grid::{self, Cell};
use crate::read::isolate::Worker;

/// More respondents than this in one file are refused: a national survey is sent per province.
pub const MAX_RESPONDENTS: usize = 200_000;
/// A file with more bad rows than this lists the first ones and says how many more.
const MAX_ISSUES: usize = 200;

/// What became of one survey file (the `survey ingest --json` shape).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SurveyReport {
    pub file: String,
    pub survey: String,
    pub period: String,
    /// `new_version`, `unchanged` or `rejected`.
    pub status: String,
    pub version: Option<i64>,
    pub respondents: usize,
    /// Respondents by unit code, for the summary line.
    pub units: usize,
    pub errors: Vec<Issue>,
    pub warnings: Vec<Issue>,
}

impl SurveyReport {
    pub fn rejected(&self) -> bool {
        self.status == "rejected"
    }
}

/// A file as a table of text cells: the sheet's name (none for CSV) and its rows, each cell with the
/// date it held when the workbook typed it as a date.
struct Table {
    sheet: Option<String>,
    rows: Vec<Vec<Cell>>,
}

/// One survey file as sent: which survey, which period, the file.
#[derive(Debug, Clone, Copy)]
pub struct SurveyFile<'a> {
    pub survey: &'a str,
    pub period: &'a str,
    pub name: &'a str,
    pub bytes: &'a [u8],
}

/// Reads, validates and (unless a dry run) stores one survey file. `worker` parses workbooks out of
/// process; a server must always pass one. CSV is read here: text, bounded by the file size limit.
pub fn ingest_survey(
    catalog: &Catalog,
    store: &dyn Store,
    file: SurveyFile<'_>,
    opts: &Options,
    worker: Option<&mut Worker>,
) -> Result<SurveyReport> {
    let SurveyFile {
        survey: survey_code,
        period: period_code,
        name: file_name,
        bytes,
    } = file;
    let sha = sha256_hex(bytes);
    let mut report = SurveyReport {
        file: file_name.to_owned(),
        survey: survey_code.to_owned(),
        period: period_code.to_owned(),
        status: "rejected".into(),
        version: None,
        respondents: 0,
        units: 0,
        errors: Vec::new(),
        warnings: Vec::new(),
    };
    let checked = check_file(catalog, survey_code, period_code, bytes, opts, worker);
    let rows = match checked {
        Ok((rows, warnings)) => {
            report.warnings = warnings;
            rows
        }
        Err(errors) => {
            report.errors = errors;
            log_refusal(store, &report, &sha, opts)?;
            return Ok(report);
        }
    };
    report.respondents = rows.len();
    report.units = rows.iter().map(|r| r.unit.as_str()).collect::<HashSet<_>>().len();
    if opts.dry_run {
        report.status = "dry_run".into();
        return Ok(report);
    }
    let sub = SurveySubmission {
        survey: survey_code.to_owned(),
        period: period_code.to_owned(),
        rows,
        received_at: opts.received_at,
        submitted_by: opts.submitted_by.clone(),
        source: opts.source.clone(),
        client: opts.client.clone(),
        file_name: Some(file_name.to_owned()),
        file_sha256: Some(sha.clone()),
    };
    match store.submit_survey(&sub)? {
        Ok(stored) => {
            report.status = if stored.new_version { "new_version" } else { "unchanged" }.into();
            report.version = Some(stored.version);
        }
        Err(Refused::PeriodLocked) => {
            report.errors = vec![period_locked(period_code)];
            log_refusal(store, &report, &sha, opts)?;
        }
    }
    Ok(report)
}

fn log_refusal(store: &dyn Store, report: &SurveyReport, sha: &str, opts: &Options) -> Result<()> {
    if opts.dry_run {
        return Ok(());
    }
    store.log_rejection(&Rejection {
        unit: None,
        form: Some(&report.survey),
        period: Some(&report.period),
        received_at: opts.received_at,
        submitted_by: opts.submitted_by.as_deref(),
        source: &opts.source,
        file_name: Some(&report.file),
        file_sha256: Some(sha),
        issues: &report.errors,
    })?;
    Ok(())
}

/// Every check of a survey file: the rows to store and the warnings, or every error found.
fn check_file(
    catalog: &Catalog,
    survey_code: &str,
    period_code: &str,
    bytes: &[u8],
    opts: &Options,
    worker: Option<&mut Worker>,
) -> std::result::Result<(Vec<SurveyRow>, Vec<Issue>), Vec<Issue>> {
    let Some(survey) = catalog.survey(survey_code) else {
        let known: Vec<&str> = catalog.surveys.iter().map(|s| s.code.as_str()).collect();
        return Err(vec![
            Issue::error(
                Rule::UnknownSurvey,
                format!("Không có khảo sát \"{survey_code}\" trong danh mục"),
            )
            .expected(known.join(", "), survey_code),
        ]);
    };
    let Some(period) = Period::parse(period_code) else {
        return Err(vec![
            Issue::error(Rule::UnknownPeriod, format!("Kỳ \"{period_code}\" không hợp lệ"))
                .expected("2026S1, 2026P hoặc 2026", period_code),
        ]);
    };
    if bytes.len() as u64 > opts.limits.max_file_bytes {
        return Err(vec![Issue::error(
            Rule::TooLarge,
            format!(
                "Tệp quá lớn: {} byte, giới hạn {} MiB",
                bytes.len(),
                opts.limits.max_file_bytes / 1024 / 1024
            ),
        )]);
    }
    let table = read_table(bytes, opts, worker).map_err(|i| vec![i])?;
    check_rows(catalog, survey, &period, &table)
}

fn is_workbook(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0])
}

fn read_table(bytes: &[u8], opts: &Options, worker: Option<&mut Worker>) -> std::result::Result<Table, Issue> {
    if is_workbook(bytes) {
        let sheets = match worker {
            Some(w) => w.read_sheets(bytes)?,
            None => grid::read_sheets(bytes, &opts.limits)?,
        };
        // Kobo and ODK put the respondents on the first sheet (repeat groups follow on others).
        let first = sheets
            .into_iter()
            .find(|g| g.rows.iter().any(|r| r.iter().any(|c| !c.is_empty())));
        let first = first.ok_or_else(|| Issue::error(Rule::EmptySurvey, "Tệp không có dữ liệu"))?;
        return Ok(Table {
            sheet: Some(first.name),
            rows: first.rows,
        });
    }
    read_csv(bytes)
}

/// CSV as the collection tools export it: UTF-8 (with or without a byte-order mark), comma,
/// semicolon or tab separated (the separator that splits the header into most columns).
fn read_csv(bytes: &[u8]) -> std::result::Result<Table, Issue> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|e| {
        Issue::error(
            Rule::NotAWorkbook,
            format!(
                "Tệp không phải bảng tính (.xlsx, .xls, .ods) cũng không phải CSV UTF-8 (byte lỗi ở vị trí {})",
                e.valid_up_to()
            ),
        )
    })?;
    let header = text.lines().next().unwrap_or("");
    let delimiter = [b',', b';', b'\t']
        .into_iter()
        .max_by_key(|d| header.matches(*d as char).count())
        .unwrap_or(b',');
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for (i, rec) in reader.records().enumerate() {
        let rec = rec.map_err(|e| {
            Issue::error(Rule::CorruptFile, format!("CSV không đọc được ở dòng {}: {e}", i + 1))
                .cell_of(&(i + 1).to_string(), 0)
        })?;
        if rows.len() > MAX_RESPONDENTS {
            return Err(Issue::error(
                Rule::TooLarge,
                format!("Tệp có hơn {MAX_RESPONDENTS} dòng: gửi theo từng tỉnh hoặc từng đợt"),
            ));
        }
        rows.push(rec.iter().map(|c| Cell::Text(c.to_owned())).collect());
    }
    Ok(Table { sheet: None, rows })
}

/// Where each column the survey uses is, by header label.
struct Columns {
    unit: usize,
    respondent: Option<usize>,
    area: Option<usize>,
    weight: Option<usize>,
    date: Option<usize>,
    /// Per estimate of the survey, in the catalog's order.
    answers: Vec<usize>,
}

fn find_columns(
    survey: &Survey,
    header: &[String],
    sheet: Option<&str>,
    header_row: u32,
) -> std::result::Result<Columns, Vec<Issue>> {
    let find = |names: &[String]| header.iter().position(|h| column_matches(names, h));
    let mut errors = Vec::new();
    let mut need = |names: &[String], what: &str| {
        let found = find(names);
        if found.is_none() {
            errors.push(
                Issue::error(
                    Rule::MissingColumn,
                    format!("Thiếu cột {what} (một trong: {})", names.join(", ")),
                )
                .at(sheet, Some(&format!("dòng {}", header_row + 1)))
                .expected(names.join(" | "), header.join(" | ")),
            );
        }
        found.unwrap_or(0)
    };
    let unit = need(&survey.unit_column, "đơn vị (mã xã/phường)");
    let answers = survey
        .estimates
        .iter()
        .map(|e| need(&e.column, &format!("câu hỏi cho {}", e.indicator)))
        .collect();
    let area_needed = survey.estimates.iter().any(|e| e.area.is_some());
    let area = if area_needed {
        Some(need(&survey.area_column, "khu vực (thành thị/nông thôn)"))
    } else {
        find(&survey.area_column)
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Columns {
        unit,
        respondent: find(&survey.respondent_column),
        area,
        weight: find(&survey.weight_column),
        date: find(&survey.date_column),
        answers,
    })
}

/// The units a survey row may name: territorial units valid at the period's end, by code and by
/// folded name (Google Forms exports the commune's name from a drop-down).
struct UnitIndex<'a> {
    by_code: BTreeMap<String, &'a Unit>,
    by_name: BTreeMap<String, Vec<&'a Unit>>,
}

impl<'a> UnitIndex<'a> {
    fn new(catalog: &'a Catalog, date: NaiveDate) -> UnitIndex<'a> {
        let mut by_code = BTreeMap::new();
        let mut by_name: BTreeMap<String, Vec<&Unit>> = BTreeMap::new();
        for u in catalog
            .units
            .list
            .iter()
            .filter(|u| u.kind.is_territorial() && u.valid_on(date))
        {
            by_code.insert(u.code.clone(), u);
            by_name.entry(fold(&u.name)).or_default().push(u);
        }
        UnitIndex { by_code, by_name }
    }

    fn find(&self, raw: &str) -> Option<&'a Unit> {
        let t = clean(raw);
        if let Some(u) = self.by_code.get(&t) {
            return Some(u);
        }
        // A code typed as a number loses its leading zeros (00004 → 4): GSO commune codes have five digits.
        if !t.is_empty()
            && t.len() < 5
            && t.chars().all(|c| c.is_ascii_digit())
            && let Some(u) = self.by_code.get(&format!("{t:0>5}"))
        {
            return Some(u);
        }
        match self.by_name.get(&fold(&t)).map(Vec::as_slice) {
            Some([one]) => Some(one),
            _ => None,
        }
    }
}

fn text_of(cell: &Cell) -> String {
    clean(&cell.display())
}

/// A date or date-time as the collection tools write it: `2026-03-15T10:22:31.000+07:00` (Kobo),
/// `2026-03-15 10:22:31`, `15/03/2026 10:22:31` (Google Forms), or a workbook date cell. The day is
/// the one written (the respondent's local day), not converted.
fn date_of(cell: &Cell) -> Option<NaiveDate> {
    if let Cell::Date(d) = cell {
        return Some(*d);
    }
    let t = text_of(cell);
    let day = t.split(['T', ' ']).next().unwrap_or("");
    crate::read::layout::parse_date_text(day)
}

/// A weight as typed: `1.5`, `1,5` or `2`.
fn weight_of(cell: &Cell) -> Option<f64> {
    if let Cell::Number(f) = cell {
        return Some(*f);
    }
    text_of(cell).replace(',', ".").parse::<f64>().ok()
}

fn check_rows(
    catalog: &Catalog,
    survey: &Survey,
    period: &Period,
    table: &Table,
) -> std::result::Result<(Vec<SurveyRow>, Vec<Issue>), Vec<Issue>> {
    let sheet = table.sheet.as_deref();
    let Some(header_at) = table.rows.iter().position(|r| r.iter().any(|c| !c.is_empty())) else {
        return Err(vec![Issue::error(Rule::EmptySurvey, "Tệp không có dữ liệu")]);
    };
    let header: Vec<String> = table.rows[header_at].iter().map(text_of).collect();
    let cols = find_columns(survey, &header, sheet, header_at as u32)?;
    let (start, end) = (period.start(&catalog.periods), period.end(&catalog.periods));
    let units = UnitIndex::new(catalog, end);
    let mut errors: Vec<Issue> = Vec::new();
    let push = |errors: &mut Vec<Issue>, i: Issue| errors.push(i);
    let mut rows = Vec::new();
    let mut seen: BTreeMap<String, u32> = BTreeMap::new();
    for (r, cells) in table.rows.iter().enumerate().skip(header_at + 1) {
        if cells.iter().all(Cell::is_empty) {
            continue; // blank lines at the end of exports
        }
        let line = r as u32 + 1;
        let get = |c: usize| cells.get(c).unwrap_or(&Cell::Empty);
        let addr = |c: usize| a1(r as u32, c as u32);
        let issue = |rule: Rule, c: usize, msg: String| {
            let mut i = Issue::error(rule, format!("Dòng {line}, cột \"{}\": {msg}", header[c]));
            i.row = Some(line.to_string());
            i.at(sheet, Some(&addr(c)))
        };
        let n_errors = errors.len();
        let raw_unit = text_of(get(cols.unit));
        let unit = units.find(&raw_unit);
        if unit.is_none() {
            let msg = if raw_unit.is_empty() {
                "thiếu mã xã/phường".to_owned()
            } else {
                format!(
                    "\"{raw_unit}\" không phải xã, phường, đặc khu nào tồn tại vào {}",
                    end.format("%d/%m/%Y")
                )
            };
            push(
                &mut errors,
                issue(Rule::UnknownUnit, cols.unit, msg).expected("mã xã/phường trong danh mục", raw_unit.clone()),
            );
        }
        let respondent = cols.respondent.map(|c| text_of(get(c))).filter(|s| !s.is_empty());
        if let Some(id) = &respondent
            && let Some(first) = seen.insert(id.clone(), line)
        {
            {
                let c = cols.respondent.unwrap_or(0);
                push(
                    &mut errors,
                    issue(
                        Rule::DuplicateRespondent,
                        c,
                        format!("phiếu \"{id}\" đã có ở dòng {first}"),
                    ),
                );
            }
        }
        let area = match cols.area {
            None => None,
            Some(c) => {
                let raw = text_of(get(c));
                if raw.is_empty() {
                    None
                } else {
                    match survey.area_of(&raw) {
                        Some(a) => Some(a),
                        None => {
                            let expected = [survey.urban.join("/"), survey.rural.join("/")].join(" hoặc ");
                            push(
                                &mut errors,
                                issue(
                                    Rule::BadArea,
                                    c,
                                    format!("\"{raw}\" không phải thành thị hay nông thôn"),
                                )
                                .expected(expected, raw),
                            );
                            None
                        }
                    }
                }
            }
        };
        let weight = match cols.weight {
            None => None,
            Some(c) => match weight_of(get(c)) {
                Some(w) if w.is_finite() && w > 0.0 => Some(w),
                _ => {
                    let raw = text_of(get(c));
                    push(
                        &mut errors,
                        issue(Rule::BadWeight, c, format!("trọng số \"{raw}\" không phải số dương"))
                            .expected("số > 0", raw),
                    );
                    None
                }
            },
        };
        let date = match cols.date {
            None => None,
            Some(c) if get(c).is_empty() => None,
            Some(c) => match date_of(get(c)) {
                None => {
                    let raw = text_of(get(c));
                    push(
                        &mut errors,
                        issue(Rule::InvalidDate, c, format!("\"{raw}\" không phải ngày")).expected("dd/mm/yyyy", raw),
                    );
                    None
                }
                Some(d) if d < start || d > end => {
                    push(
                        &mut errors,
                        issue(
                            Rule::OutsidePeriod,
                            c,
                            format!(
                                "trả lời ngày {} nằm ngoài kỳ {} ({} – {})",
                                d.format("%d/%m/%Y"),
                                period.code(),
                                start.format("%d/%m/%Y"),
                                end.format("%d/%m/%Y")
                            ),
                        )
                        .expected(
                            format!("{} – {}", start.format("%d/%m/%Y"), end.format("%d/%m/%Y")),
                            d.format("%d/%m/%Y").to_string(),
                        ),
                    );
                    None
                }
                Some(d) => Some(d),
            },
        };
        let mut answers = BTreeMap::new();
        for (e, &c) in survey.estimates.iter().zip(&cols.answers) {
            let raw = text_of(get(c));
            if raw.is_empty() {
                if e.required {
                    push(
                        &mut errors,
                        issue(Rule::MissingAnswer, c, "câu hỏi bắt buộc chưa trả lời".into()),
                    );
                }
                continue;
            }
            match e.answer(&raw) {
                Some(a) => {
                    answers.insert(e.indicator.clone(), a.to_owned());
                }
                None => push(
                    &mut errors,
                    issue(Rule::BadAnswer, c, format!("\"{raw}\" không phải câu trả lời hợp lệ"))
                        .expected(e.answers.join(", "), raw),
                ),
            }
        }
        if errors.len() == n_errors
            && let Some(u) = unit
        {
            {
                rows.push(SurveyRow {
                    line,
                    respondent,
                    unit: u.code.clone(),
                    area: area.map(|a| a.id().to_owned()),
                    weight,
                    date,
                    answers,
                });
            }
        }
        if rows.len() > MAX_RESPONDENTS {
            return Err(vec![Issue::error(
                Rule::TooLarge,
                format!("Tệp có hơn {MAX_RESPONDENTS} phiếu: gửi theo từng tỉnh hoặc từng đợt"),
            )]);
        }
    }
    if errors.len() > MAX_ISSUES {
        let extra = errors.len() - MAX_ISSUES;
        let rule = errors[MAX_ISSUES].rule;
        errors.truncate(MAX_ISSUES);
        errors.push(Issue::error(rule, format!("… và {extra} lỗi khác")));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    if rows.is_empty() {
        return Err(vec![
            Issue::error(Rule::EmptySurvey, "Tệp không có phiếu trả lời nào").at(sheet, None),
        ]);
    }
    Ok((rows, Vec::new()))
}
