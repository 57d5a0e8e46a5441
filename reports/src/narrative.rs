//! The narrative report (báo cáo) in the Vietnamese administrative format of Nghị định 30/2020/NĐ-CP:
//! issuing body, Quốc hiệu and Tiêu ngữ, number, place and date, title, body generated from the data,
//! proposals left for the officer, Nơi nhận and the signature block. The document is first a list of
//! blocks, rendered to .docx (docx-rs) and to plain text (for snapshot tests and review).

use std::collections::BTreeMap;

use docx_rs::{
    AlignmentType, Docx, PageMargin, Paragraph, Pic, Run, RunFonts, Table, TableCell, TableLayoutType, TableRow,
    WidthType,
};
use pbgdpl_catalog::PeriodKind;
use pbgdpl_catalog::text::{decimal_vi, group_vi};
use pbgdpl_engine::{IndicatorValue, of_form};

use crate::bundle::Report;
use crate::charts::{Bar, REPORT_CHART_WIDTH};
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

/// A part column's label as a table heading: "Trong đó: trên môi trường số" → "Trên môi trường số".
fn part_heading(label: &str) -> String {
    let rest = label.strip_prefix("Trong đó:").unwrap_or(label).trim();
    let mut chars = rest.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Roman numerals for the report's section headings.
const SECTIONS: [&str; 10] = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X"];

/// The document's blocks, from the report's facts.
pub fn narrative(input: &Report<'_>, date: chrono::NaiveDate) -> Vec<Block> {
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
    let previous = input.previous.as_ref().filter(|_| annual);
    let mut section = SECTIONS.iter();
    let mut heading = |title: &str| Block::Heading(format!("{}. {title}", section.next().copied().unwrap_or("")));
    // The plans the report accounts for: those with tasks under the unit, else the plan in force
    // for the unit at the end of the period.
    let mut plans = input.plans();
    if plans.is_empty() {
        plans.extend(cat.plan_for(&input.unit, input.period.end(&cat.periods)));
    }
    let plan_id = plans.iter().map(|p| p.id.as_str()).collect::<Vec<_>>().join("; ");
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
            match cat.units.get(&input.unit).filter(|u| u.code != cat.province.code) {
                Some(u) => format!("{}, {} ({plan_id})", u.name, input.period.label().to_lowercase()),
                None => format!("{} ({plan_id})", input.period.label()),
            },
        ]),
        Block::Para(format!(
            "Thực hiện {}, Sở Tư pháp báo cáo kết quả {} như sau:",
            if plans.is_empty() {
                "kế hoạch của Ủy ban nhân dân tỉnh".to_owned()
            } else {
                plans.iter().map(|p| p.name.as_str()).collect::<Vec<_>>().join("; ")
            },
            input.period.label().to_lowercase()
        )),
        heading("KẾT QUẢ THỰC HIỆN CÁC CHỈ TIÊU"),
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
        // A survey estimate is judged on the estimate, its interval and sample stated beside it.
        let sentence = match (&v.survey, crate::text::source_text(v)) {
            (Some(s), Some(src)) => format!(
                "{} Số liệu từ {src}; sai số ±{} điểm phần trăm (độ tin cậy 95 %).",
                sentence,
                s.margin.map(|m| decimal_vi(m, 1)).unwrap_or_else(|| "?".into())
            ),
            _ => sentence,
        };
        out.push(Block::Para(sentence));
    }
    // Survey estimates of indicators without a target this phase (CDS-5 before 2028) are stated too.
    for v in mine.iter().filter(|v| v.target.is_none() && v.survey.is_some()) {
        if let (Some(x), Some(src)) = (v.value, crate::text::source_text(v)) {
            out.push(Block::Para(format!(
                "{}: {}% theo {src}; sai số ±{} điểm phần trăm (độ tin cậy 95 %).",
                v.indicator,
                decimal_vi(x, 2),
                v.survey
                    .as_ref()
                    .and_then(|s| s.margin)
                    .map(|m| decimal_vi(m, 1))
                    .unwrap_or_else(|| "?".into())
            )));
        }
    }
    // The forms the catalog sets out in sections of their own (activities: F02), with the annual
    // report's year before beside each count.
    for form in cat.forms.iter().filter(|f| f.is_numeric()) {
        let Some(title) = &form.report_section else { continue };
        out.push(heading(title));
        let sums = of_form(&input.totals, &form.id);
        let before = previous.map(|p| of_form(&p.totals, &form.id)).filter(|b| !b.is_empty());
        // Column (1) is the total; a second column, where a row has one, is its "of which" part.
        let (total_col, part_col) = (form.columns.first().map(|c| c.number).unwrap_or(1), form.columns.get(1));
        let mut head: Vec<String> = vec!["Mã số".into(), "Chỉ tiêu".into(), "Tổng số".into()];
        if before.is_some() {
            head.extend(["Năm trước".into(), "Tăng, giảm".into()]);
        }
        if let Some(part) = part_col {
            head.push(part_heading(&part.label));
        }
        let mut rows = vec![head];
        for r in &form.rows {
            let get = |sums: &BTreeMap<(&str, u32), i64>, c: u32| sums.get(&(r.code.as_str(), c)).copied();
            let text = |n: Option<i64>| n.map(group_vi).unwrap_or_else(|| "—".into());
            let mut row = vec![
                r.code.clone(),
                format!("{} ({})", r.label, r.unit),
                text(get(&sums, total_col)),
            ];
            if let Some(before) = &before {
                let (now, then) = (get(&sums, total_col), get(before, total_col));
                row.push(text(then));
                row.push(match (now, then) {
                    (Some(a), Some(b)) if b > 0 => {
                        let change = 100.0 * (a - b) as f64 / b as f64;
                        format!("{}{}%", if change >= 0.0 { "+" } else { "" }, decimal_vi(change, 1))
                    }
                    _ => "—".into(),
                });
            }
            if let Some(part) = part_col {
                row.push(if r.columns.contains(&part.number) {
                    text(get(&sums, part.number))
                } else {
                    String::new()
                });
            }
            rows.push(row);
        }
        out.push(Block::Table(rows));
    }
    out.push(heading("TIẾN ĐỘ THỰC HIỆN NHIỆM VỤ CỦA KẾ HOẠCH"));
    for plan in &plans {
        if plans.len() > 1 {
            out.push(Block::Para(plan.name.clone()));
        }
        let mut rows = vec![vec![
            "Mã".into(),
            "Nhiệm vụ".into(),
            "Thời hạn".into(),
            "Đã hoàn thành / cơ quan chủ trì".into(),
            "Đúng hạn theo kế hoạch".into(),
        ]];
        for t in &plan.tasks {
            let leads: Vec<_> = input
                .tasks
                .iter()
                .filter(|p| p.plan == plan.id && p.task == t.code)
                .collect();
            let done = leads.iter().filter(|p| p.done).count();
            let on_time = leads.iter().filter(|p| p.on_time).count();
            // A task led by many shows the share of its leads; the last column is NV-1's verdict by the
            // plan's rule for the tasks due by the end of the period ("Không tính": ongoing, per guidance or
            // not yet due).
            let share = if leads.len() > 3 {
                format!(" ({} %)", decimal_vi(100.0 * done as f64 / leads.len() as f64, 1))
            } else {
                String::new()
            };
            let verdict = if leads.iter().all(|p| p.due.is_none()) {
                "Không tính".to_owned()
            } else if t.done_rule.met(on_time, leads.len()) {
                "Đạt".to_owned()
            } else {
                "Chưa đạt".to_owned()
            };
            rows.push(vec![
                t.code.clone(),
                t.title.clone(),
                t.due.label(),
                format!("{done}/{}{share}", leads.len()),
                verdict,
            ]);
        }
        out.push(Block::Table(rows));
    }
    out.push(heading("KHÓ KHĂN, VƯỚNG MẮC"));
    let mut difficulties: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for p in &input.tasks {
        let Some(text) = &p.difficulties else { continue };
        let name = cat
            .units
            .get(&p.lead)
            .map(|u| u.name.clone())
            .unwrap_or_else(|| p.lead.clone());
        difficulties
            .entry(text.clone())
            .or_default()
            .push(format!("{name} ({})", p.task));
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
    out.push(heading("ĐỀ XUẤT, KIẾN NGHỊ"));
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
        .map_err(|e| Error::Render(format!("docx: {e}")))?;
    Ok(buf.into_inner())
}
