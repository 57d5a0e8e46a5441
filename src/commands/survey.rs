//! `pbgdpl survey ingest`: one survey export read (workbooks in a bounded worker process, CSV here),
//! checked row by row against the catalog's survey definition and stored whole; exit 0 when stored
//! or unchanged, 1 when refused.

use std::process::ExitCode;

use pbgdpl_catalog::Issue;
use pbgdpl_ingest::pipeline::Options;
use pbgdpl_ingest::read::isolate::Worker;
use pbgdpl_ingest::survey::{SurveyFile, SurveyReport, ingest_survey};

use super::{Context, Usage};
use crate::args::SurveyCommand;

pub(crate) fn run(ctx: &Context, command: SurveyCommand) -> anyhow::Result<ExitCode> {
    match command {
        SurveyCommand::Ingest {
            file,
            period,
            survey,
            dry_run,
            json,
        } => {
            let survey = match survey {
                Some(s) => s,
                None => match ctx.catalog.surveys.as_slice() {
                    [one] => one.code.clone(),
                    [] => return Err(Usage("danh mục không có khảo sát nào".into()).into()),
                    many => {
                        let codes: Vec<&str> = many.iter().map(|s| s.code.as_str()).collect();
                        return Err(Usage(format!("chọn khảo sát bằng --survey ({})", codes.join(", "))).into());
                    }
                },
            };
            let store = ctx.store()?;
            let limits = pbgdpl_ingest::read::Limits::default();
            let bytes = match pbgdpl_ingest::read::grid::read_bytes(&file, &limits)? {
                Ok(b) => b,
                Err(issue) => return refuse_unread(&file.display().to_string(), &survey, &period.code(), issue, json),
            };
            let opts = Options {
                dry_run,
                today: ctx.clock.today(),
                ..Options::received(ctx.clock.now())
            };
            let mut worker = crate::worker::config().map(Worker::new);
            let name = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let file = SurveyFile {
                survey: &survey,
                period: &period.code(),
                name: &name,
                bytes: &bytes,
            };
            let report = ingest_survey(&ctx.catalog, &*store, file, &opts, worker.as_mut())?;
            print(&report, json)?;
            Ok(ExitCode::from(u8::from(report.rejected())))
        }
    }
}

fn refuse_unread(file: &str, survey: &str, period: &str, issue: Issue, json: bool) -> anyhow::Result<ExitCode> {
    let report = SurveyReport {
        file: file.to_owned(),
        survey: survey.to_owned(),
        period: period.to_owned(),
        status: "rejected".into(),
        version: None,
        respondents: 0,
        units: 0,
        errors: vec![issue],
        warnings: Vec::new(),
    };
    print(&report, json)?;
    Ok(ExitCode::from(1))
}

fn print(report: &SurveyReport, json: bool) -> anyhow::Result<()> {
    if json {
        super::out(format!("{}\n", serde_json::to_string_pretty(report)?))?;
        return Ok(());
    }
    let head = format!("{} — khảo sát {}, kỳ {}", report.file, report.survey, report.period);
    let text = match report.status.as_str() {
        "new_version" => format!(
            "{head}: đã nhận {} phiếu của {} đơn vị (phiên bản {}).\n",
            report.respondents,
            report.units,
            report.version.unwrap_or(1)
        ),
        "unchanged" => format!(
            "{head}: giống hệt phiên bản {} đã lưu, không thay đổi.\n",
            report.version.unwrap_or(1)
        ),
        "dry_run" => format!(
            "{head}: hợp lệ, {} phiếu của {} đơn vị (chạy thử, chưa lưu).\n",
            report.respondents, report.units
        ),
        _ => {
            let mut t = format!("{head}: BỊ TỪ CHỐI, không lưu gì ({} lỗi)\n", report.errors.len());
            for e in &report.errors {
                t.push_str(&pbgdpl_reports::text::issue_line("lỗi", e));
                t.push('\n');
            }
            t
        }
    };
    super::out(text)?;
    Ok(())
}
