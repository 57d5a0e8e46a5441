//! The narrative report (báo cáo) in the Vietnamese administrative format of Nghị định 30/2020/NĐ-CP:
//! issuing body, Quốc hiệu and Tiêu ngữ, number, place and date, title, body generated from the data,
//! proposals left for the officer, Nơi nhận and the signature block. The document is first a list of
//! blocks, rendered to .docx (docx-rs) and to plain text (for snapshot tests and review).

use std::collections::BTreeMap;

use docx_rs::{
    AlignmentType, Docx, PageMargin, Paragraph, Pic, Run, RunFonts, Table, TableCell, TableLayoutType, TableRow,
    WidthType,
};
use pbgdpl_engine::IndicatorValue;
use pbgdpl_ingest::catalog::PeriodKind;
use pbgdpl_ingest::model::Value;
use pbgdpl_ingest::store::StoredValue;
use pbgdpl_ingest::text::{decimal_vi, group_vi};

use crate::charts::{Bar, REPORT_CHART_WIDTH};
use crate::workbook::{ReportInput, cell_sums};
use crate::{Error, Result};

/// One block of the document.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// The two-column header: issuing body and number on the left, Quốc hiệu, Tiêu ngữ, place and
    /// date on the right.
    Header {
        left: Vec<String>,
        right: Vec<String>,
    },
    /// Centred bold text (the title).
    Title(Vec<String>),
    Heading(String),
    Para(String),
    /// A centred italic line under a chart.
    Caption(String),
    /// A table with a header row.
    Table(Vec<Vec<String>>),
    /// A chart of the indicators against their targets, drawn as a PNG in the .docx.
    Chart {
        title: String,
        bars: Vec<Bar>,
    },
    /// Nơi nhận on the left, the signature block on the right.
    Footer {
        recipients: Vec<String>,
        signer: Vec<String>,
    },
}

fn pct(v: Option<f64>) -> String {
    v.map(|x| format!("{}%", decimal_vi(x, 2)))
        .unwrap_or_else(|| "chưa có số liệu".into())
}

/// The year before, for the annual report's comparisons.
#[derive(Debug, Clone, Copy)]
pub struct Previous<'a> {
    pub indicators: &'a [IndicatorValue],
    /// Its stored values (official, else preliminary), for the activity counts.
    pub values: &'a [StoredValue],
}

/// The document's blocks, from the period's computed indicators and stored values.
pub fn narrative(input: &ReportInput<'_>, date: chrono::NaiveDate, previous: Option<Previous<'_>>) -> Vec<Block> {
    use chrono::Datelike;
    let cat = input.catalog;
    let province = cat.province.name.to_uppercase().replace("TỈNH ", "");
    let place = if cat.province.place.is_empty() {
        cat.province.short_name.clone()
    } else {
        cat.province.place.clone()
    };
    let annual = input.period.kind != PeriodKind::Semiannual;
    // Only the annual report compares with the year before.
    let previous = previous.filter(|_| annual);
    let plan_id = cat.plan_in_force().map(|p| p.id.as_str()).unwrap_or("");
    let mut out = vec![
        Block::Header {
            left: vec![
                format!("UBND TỈNH {province}"),
                "SỞ TƯ PHÁP".into(),
                "Số:        /BC-STP".into(),
            ],
            right: vec![
                "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM".into(),
                "Độc lập - Tự do - Hạnh phúc".into(),
                format!(
                    "{place}, ngày {:02} tháng {:02} năm {}",
                    date.day(),
                    date.month(),
                    date.year()
                ),
            ],
        },
        Block::Title(vec![
            "BÁO CÁO".into(),
            "Kết quả thực hiện chuyển đổi số trong công tác phổ biến, giáo dục pháp luật".into(),
            // A report on one unit of the province names it.
            match cat.units.get(input.unit).filter(|u| u.code != cat.province.code) {
                Some(u) => format!("{}, {} ({plan_id})", u.name, input.period.label().to_lowercase()),
                None => format!("{} ({plan_id})", input.period.label()),
            },
        ]),
        Block::Para(format!(
            "Thực hiện {}, Sở Tư pháp báo cáo kết quả {} như sau:",
            cat.plan_in_force()
                .map(|p| p.name.clone())
                .unwrap_or_else(|| "kế hoạch của Ủy ban nhân dân tỉnh".into()),
            input.period.label().to_lowercase()
        )),
        Block::Heading("I. KẾT QUẢ THỰC HIỆN CÁC CHỈ TIÊU".into()),
    ];
    let mine: Vec<&IndicatorValue> = input.indicators.iter().filter(|v| v.unit == input.unit).collect();
    // The rates against targets: in the table and in the chart.
    let rates: Vec<&IndicatorValue> = mine
        .iter()
        .copied()
        .filter(|v| v.measure == "%" && !v.indicator.starts_with("BC"))
        .collect();
    let before = |v: &IndicatorValue| {
        previous
            .and_then(|prev| {
                prev.indicators
                    .iter()
                    .find(|p| p.indicator == v.indicator && p.unit == v.unit)
            })
            .and_then(|p| p.value)
    };
    let mut rows = vec![vec![
        "Mã".into(),
        "Chỉ tiêu".into(),
        "Kết quả".into(),
        "Mục tiêu".into(),
        "Đánh giá".into(),
    ]];
    if previous.is_some() {
        rows[0].insert(3, "Năm trước".into());
    }
    for v in &rates {
        let mut row = vec![
            v.indicator.clone(),
            v.name.clone(),
            pct(v.value),
            v.target
                .map(|t| format!("≥ {}%", decimal_vi(t, 0)))
                .unwrap_or_else(|| "—".into()),
            v.status.map(|s| s.label().to_owned()).unwrap_or_else(|| "—".into()),
        ];
        if previous.is_some() {
            row.insert(3, pct(before(v)));
        }
        rows.push(row);
    }
    out.push(Block::Table(rows));
    let bars: Vec<Bar> = rates
        .iter()
        .map(|v| Bar {
            label: v.indicator.clone(),
            value: v.value,
            target: v.target,
            previous: before(v),
        })
        .collect();
    if !bars.is_empty() {
        let with_previous = bars.iter().any(|b| b.previous.is_some());
        let without_target = bars.iter().any(|b| b.target.is_none());
        out.push(Block::Chart {
            title: format!(
                "Kết quả các chỉ tiêu so với mục tiêu, {}",
                input.period.label().to_lowercase()
            ),
            bars,
        });
        out.push(Block::Caption(format!(
            "Hình 1. Cột xanh lá: đạt mục tiêu; cột đỏ: chưa đạt; vạch đen: mục tiêu{}{}.",
            if without_target {
                "; cột xanh dương: chỉ tiêu chưa có mục tiêu"
            } else {
                ""
            },
            if with_previous {
                "; cột xám: năm trước"
            } else {
                ""
            }
        )));
    }
    for v in mine.iter().filter(|v| v.target.is_some()) {
        let sentence = match (v.value, v.status, v.gap) {
            (Some(x), Some(pbgdpl_engine::Status::Dat), _) => format!(
                "{}: đạt {}%, đạt mục tiêu {} (≥ {}%).",
                v.indicator,
                decimal_vi(x, 2),
                v.phase.as_deref().unwrap_or(""),
                decimal_vi(v.target.unwrap_or_default(), 0)
            ),
            (Some(x), _, Some(g)) => format!(
                "{}: đạt {}%, còn thấp hơn mục tiêu {} điểm phần trăm{}.",
                v.indicator,
                decimal_vi(x, 2),
                decimal_vi(-g, 2),
                v.pace
                    .map(|p| format!(
                        "; cần tăng bình quân {} điểm/năm để đạt vào cuối giai đoạn",
                        decimal_vi(p, 2)
                    ))
                    .unwrap_or_default()
            ),
            _ => format!("{}: chưa có số liệu ({} đơn vị báo cáo).", v.indicator, v.reporting),
        };
        out.push(Block::Para(sentence));
    }
    out.push(Block::Heading("II. HOẠT ĐỘNG PHỔ BIẾN, GIÁO DỤC PHÁP LUẬT".into()));
    let under = input.units_under();
    if let Some(f02) = cat.form("F02") {
        let in_scope = |v: &&StoredValue| under.contains(v.unit.as_str());
        let sums = cell_sums(input.values.iter().filter(in_scope), &f02.id);
        // The annual report sets each count beside the year before's.
        let before = previous
            .filter(|p| !p.values.is_empty())
            .map(|p| cell_sums(p.values.iter().filter(in_scope), &f02.id));
        let mut head: Vec<String> = vec!["Mã số".into(), "Chỉ tiêu".into(), "Tổng số".into()];
        if before.is_some() {
            head.extend(["Năm trước".into(), "Tăng, giảm".into()]);
        }
        head.push("Trên môi trường số".into());
        let mut rows = vec![head];
        for r in &f02.rows {
            let get = |sums: &BTreeMap<(&str, u32), i64>, c: u32| sums.get(&(r.code.as_str(), c)).copied();
            let text = |n: Option<i64>| n.map(group_vi).unwrap_or_else(|| "—".into());
            let mut row = vec![r.code.clone(), format!("{} ({})", r.label, r.unit), text(get(&sums, 1))];
            if let Some(before) = &before {
                let (now, then) = (get(&sums, 1), get(before, 1));
                row.push(text(then));
                row.push(match (now, then) {
                    (Some(a), Some(b)) if b > 0 => {
                        let change = 100.0 * (a - b) as f64 / b as f64;
                        format!("{}{}%", if change >= 0.0 { "+" } else { "" }, decimal_vi(change, 1))
                    }
                    _ => "—".into(),
                });
            }
            row.push(if r.columns.contains(&2) {
                text(get(&sums, 2))
            } else {
                String::new()
            });
            rows.push(row);
        }
        out.push(Block::Table(rows));
    }
    out.push(Block::Heading("III. TIẾN ĐỘ THỰC HIỆN NHIỆM VỤ CỦA KẾ HOẠCH".into()));
    if let Some(plan) = cat.plan_in_force() {
        let mut rows = vec![vec![
            "Mã".into(),
            "Nhiệm vụ".into(),
            "Thời hạn".into(),
            "Đã hoàn thành / cơ quan chủ trì".into(),
        ]];
        // What counts as done is the task form's, as the engine's NV-1 reads it.
        let tasks = cat.forms.iter().find(|f| f.rows_from_plan);
        let status = tasks.and_then(|f| f.status_column());
        let done_text = status.and_then(|c| c.done.clone()).map(Value::Text);
        for t in &plan.tasks {
            let done = t
                .leads
                .iter()
                .filter(|l| {
                    input.values.iter().any(|v| {
                        tasks.is_some_and(|f| v.form == f.id)
                            && &v.unit == *l
                            && v.row == t.code
                            && status.is_some_and(|c| v.column == c.number)
                            && Some(&v.value) == done_text.as_ref()
                    })
                })
                .count();
            let due = t.due.label();
            rows.push(vec![
                t.code.clone(),
                t.title.clone(),
                due,
                format!("{done}/{}", t.leads.len()),
            ]);
        }
        out.push(Block::Table(rows));
    }
    out.push(Block::Heading("IV. KHÓ KHĂN, VƯỚNG MẮC".into()));
    let mut difficulties: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for v in input
        .values
        .iter()
        .filter(|v| v.form == "F03" && v.column == 4 && under.contains(v.unit.as_str()))
    {
        let name = cat
            .units
            .get(&v.unit)
            .map(|u| u.name.clone())
            .unwrap_or_else(|| v.unit.clone());
        difficulties
            .entry(v.value.to_text())
            .or_default()
            .push(format!("{name} ({})", v.row));
    }
    if difficulties.is_empty() {
        out.push(Block::Para("Các đơn vị không báo cáo khó khăn, vướng mắc.".into()));
    }
    for (text, who) in difficulties {
        out.push(Block::Para(format!(
            "- {text} (nêu bởi {} lượt: {}).",
            who.len(),
            who.into_iter().take(5).collect::<Vec<_>>().join("; ")
        )));
    }
    out.push(Block::Heading("V. ĐỀ XUẤT, KIẾN NGHỊ".into()));
    out.push(Block::Para(
        "[Phần đề xuất, kiến nghị do cán bộ soạn thảo bổ sung.]".into(),
    ));
    out.push(Block::Footer {
        recipients: vec![
            "Nơi nhận:".into(),
            "- Bộ Tư pháp;".into(),
            "- UBND tỉnh;".into(),
            "- Giám đốc Sở;".into(),
            "- Lưu: VT, PBGDPL.".into(),
        ],
        signer: vec!["GIÁM ĐỐC".into(), String::new(), String::new(), String::new()],
    });
    out
}

/// The document as plain text, one block after another.
pub fn to_text(blocks: &[Block]) -> String {
    let mut out = String::new();
    for b in blocks {
        match b {
            Block::Header { left, right } => {
                for i in 0..left.len().max(right.len()) {
                    out.push_str(&format!(
                        "{:<40}{}\n",
                        left.get(i).map(String::as_str).unwrap_or(""),
                        right.get(i).map(String::as_str).unwrap_or("")
                    ));
                }
            }
            Block::Title(lines) => lines.iter().for_each(|l| out.push_str(&format!("    {l}\n"))),
            Block::Heading(h) => out.push_str(&format!("\n{h}\n")),
            Block::Para(p) => out.push_str(&format!("{p}\n")),
            Block::Caption(c) => out.push_str(&format!("    {c}\n")),
            Block::Chart { title, bars } => {
                out.push_str(&format!("[Biểu đồ: {title}]\n"));
                for b in bars {
                    out.push_str(&format!(
                        "  {}: {} (mục tiêu {}{})\n",
                        b.label,
                        pct(b.value),
                        b.target
                            .map(|t| format!("{}%", decimal_vi(t, 0)))
                            .unwrap_or_else(|| "—".into()),
                        b.previous
                            .map(|p| format!("; năm trước {}", pct(Some(p))))
                            .unwrap_or_default()
                    ));
                }
            }
            Block::Table(rows) => rows
                .iter()
                .for_each(|r| out.push_str(&format!("| {} |\n", r.join(" | ")))),
            Block::Footer { recipients, signer } => {
                for i in 0..recipients.len().max(signer.len()) {
                    out.push_str(&format!(
                        "{:<40}{}\n",
                        recipients.get(i).map(String::as_str).unwrap_or(""),
                        signer.get(i).map(String::as_str).unwrap_or("")
                    ));
                }
            }
        }
    }
    out
}

fn run(text: &str, size_pt: usize) -> Run {
    Run::new().add_text(text).size(size_pt * 2).fonts(
        RunFonts::new()
            .ascii("Times New Roman")
            .hi_ansi("Times New Roman")
            .cs("Times New Roman"),
    )
}

fn centred(lines: &[String], bold_first: usize, size: usize) -> Vec<Paragraph> {
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let r = run(l, size);
            Paragraph::new()
                .add_run(if i < bold_first { r.bold() } else { r })
                .align(AlignmentType::Center)
        })
        .collect()
}

/// Width of the text on an A4 page with the margins below, in twips.
const TEXT_WIDTH: usize = 11906 - 1701 - 850;

fn two_columns(left: Vec<Paragraph>, right: Vec<Paragraph>) -> Table {
    let mut l = TableCell::new().width(3500, WidthType::Dxa);
    for p in left {
        l = l.add_paragraph(p);
    }
    let mut r = TableCell::new().width(TEXT_WIDTH - 3500, WidthType::Dxa);
    for p in right {
        r = r.add_paragraph(p);
    }
    Table::new(vec![TableRow::new(vec![l, r])])
        .set_grid(vec![3500, TEXT_WIDTH - 3500])
        .width(TEXT_WIDTH, WidthType::Dxa)
        .clear_all_border()
}

/// Column widths of a data table in twips: a narrow code column, a wide label column, the figures
/// sharing the rest.
fn grid(columns: usize) -> Vec<usize> {
    let code = 1000;
    if columns <= 2 {
        return vec![code, TEXT_WIDTH - code][..columns].to_vec();
    }
    let label = TEXT_WIDTH * 45 / 100;
    let rest = (TEXT_WIDTH - code - label) / (columns - 2);
    let mut grid = vec![code, label];
    grid.extend(std::iter::repeat_n(rest, columns - 2));
    grid
}

/// A data table with a bold header row; rows do not break across pages. Every cell carries its width and the
/// layout is fixed, so Word lays it out as LibreOffice does instead of fitting it to the text.
fn table(rows: &[Vec<String>]) -> Table {
    let widths = grid(rows.first().map_or(0, Vec::len));
    let rows = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let cells = r
                .iter()
                .zip(&widths)
                .enumerate()
                .map(|(j, (c, w))| {
                    let text = run(c, 12);
                    let mut p = Paragraph::new().add_run(if i == 0 { text.bold() } else { text });
                    // Figures right-aligned so that their digits line up; dates, ratios and words centred.
                    let figure = !c.is_empty() && c.chars().all(|ch| ch.is_ascii_digit() || ".,%+-".contains(ch));
                    if i == 0 || (j >= 2 && !figure) {
                        p = p.align(AlignmentType::Center);
                    } else if j >= 2 {
                        p = p.align(AlignmentType::Right);
                    }
                    TableCell::new().width(*w, WidthType::Dxa).add_paragraph(p)
                })
                .collect();
            TableRow::new(cells).cant_split()
        })
        .collect();
    Table::new(rows)
        .set_grid(widths)
        .width(TEXT_WIDTH, WidthType::Dxa)
        .layout(TableLayoutType::Fixed)
}

/// The document as .docx: A4, the margins of Nghị định 30, Times New Roman 13–14.
pub fn to_docx(blocks: &[Block]) -> Result<Vec<u8>> {
    let mut doc = Docx::new()
        .page_size(11906, 16838)
        .page_margin(PageMargin {
            top: 1134,
            bottom: 1134,
            left: 1701,
            right: 850,
            header: 720,
            footer: 720,
            gutter: 0,
        })
        .default_fonts(
            RunFonts::new()
                .ascii("Times New Roman")
                .hi_ansi("Times New Roman")
                .cs("Times New Roman"),
        )
        .default_size(28)
        // Nghị định 30: page numbers centred in the top margin, not shown on the first page.
        .header(
            docx_rs::Header::new().add_paragraph(
                Paragraph::new()
                    .add_page_num(docx_rs::PageNum::new())
                    .align(AlignmentType::Center),
            ),
        )
        .first_header(docx_rs::Header::new());
    for b in blocks {
        doc = match b {
            Block::Header { left, right } => doc
                .add_table(two_columns(centred(left, 2, 12), centred(right, 2, 12)))
                .add_paragraph(Paragraph::new()),
            Block::Title(lines) => centred(lines, 1, 14).into_iter().fold(doc, |d, p| d.add_paragraph(p)),
            Block::Heading(h) => doc
                .add_paragraph(Paragraph::new())
                .add_paragraph(Paragraph::new().add_run(run(h, 14).bold())),
            Block::Para(p) => doc.add_paragraph(Paragraph::new().add_run(run(p, 14)).align(AlignmentType::Both)),
            Block::Caption(c) => doc.add_paragraph(
                Paragraph::new()
                    .add_run(run(c, 12).italic())
                    .align(AlignmentType::Center),
            ),
            Block::Chart { title, bars } => {
                let png = crate::charts::indicators_png(title, bars)?;
                // Drawn at twice the screen density: placed at half its pixel size (9525 EMU per pixel).
                let emu =
                    |px: u32| (u64::from(px) * 9525 * u64::from(REPORT_CHART_WIDTH) / u64::from(png.width)) as u32;
                let (w, h) = (emu(png.width), emu(png.height));
                let pic = Pic::new_with_dimensions(png.bytes, png.width, png.height).size(w, h);
                doc.add_paragraph(
                    Paragraph::new()
                        .add_run(Run::new().add_image(pic))
                        .align(AlignmentType::Center),
                )
            }
            Block::Table(rows) => doc.add_table(table(rows)),
            Block::Footer { recipients, signer } => {
                let left = recipients
                    .iter()
                    .enumerate()
                    .map(|(i, l)| {
                        Paragraph::new().add_run(if i == 0 { run(l, 12).bold().italic() } else { run(l, 11) })
                    })
                    .collect();
                doc.add_paragraph(Paragraph::new())
                    .add_table(two_columns(left, centred(signer, 1, 14)))
            }
        };
    }
    let mut buf = std::io::Cursor::new(Vec::new());
    doc.build()
        .pack(&mut buf)
        .map_err(|e| Error::Input(format!("docx: {e}")))?;
    Ok(buf.into_inner())
}
