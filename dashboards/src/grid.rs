//! Tables people can work with, the same on every page: sort by any column (a link in its header),
//! filter (only missing, only late, only below target, units with data…), group (by kind, by former
//! district…), pages of [`PAGE_ROWS`] rows, and a CSV or XLSX download of the rows as filtered and
//! sorted. All of it is query parameters — no script: the page works in any browser and its URL
//! says what it shows.

use askama::Template;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use pbgdpl_catalog::text::group_vi;
use pbgdpl_reports::table::{Table, Value};
use serde::Deserialize;

use crate::AppError;
use crate::views::render;

/// Rows per page: a 3,000-unit province's table stays light on a phone.
pub(crate) const PAGE_ROWS: usize = 50;

/// The table's own query parameters (beside the page's `period` and `unit`).
#[derive(Debug, Default, Clone, Deserialize)]
pub(crate) struct GridQuery {
    /// Index of the column to sort by.
    pub sort: Option<usize>,
    /// `1`: descending.
    pub desc: Option<u8>,
    /// A filter id of the table.
    pub show: Option<String>,
    /// A grouping id of the table.
    pub group: Option<String>,
    /// 1-based page.
    pub page: Option<usize>,
    /// `csv` or `xlsx`: the whole filtered table as a download.
    pub format: Option<String>,
}

impl GridQuery {
    /// The part of a cache key that these parameters make.
    pub(crate) fn key(&self) -> String {
        format!(
            "sort={:?}&desc={:?}&show={:?}&group={:?}&page={:?}",
            self.sort, self.desc, self.show, self.group, self.page
        )
    }

    pub(crate) fn download(&self) -> Option<&str> {
        self.format.as_deref().filter(|f| matches!(*f, "csv" | "xlsx"))
    }
}

/// How a cell sorts: numbers by value, text by its letters folded to ASCII (so that "Đ" sorts
/// beside "D"), blanks last in either direction.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Sort {
    Num(f64),
    Text(String),
    Blank,
}

pub(crate) struct Cell {
    pub text: String,
    pub href: Option<String>,
    pub num: bool,
    pub sort: Sort,
    /// What the download writes.
    pub value: Value,
}

/// Text as a download writes it: nothing for an empty cell.
fn text_value(text: &str) -> Value {
    if text.is_empty() {
        Value::Empty
    } else {
        Value::Text(text.to_owned())
    }
}

impl Cell {
    pub(crate) fn text(t: impl Into<String>) -> Cell {
        let text: String = t.into();
        Cell {
            sort: if text.is_empty() {
                Sort::Blank
            } else {
                Sort::Text(pbgdpl_catalog::text::fold(&text))
            },
            value: text_value(&text),
            text,
            href: None,
            num: false,
        }
    }

    pub(crate) fn link(t: impl Into<String>, href: String) -> Cell {
        Cell {
            href: Some(href),
            ..Cell::text(t)
        }
    }

    /// A whole number, grouped the Vietnamese way on screen (`1.234`).
    pub(crate) fn int(v: Option<i64>) -> Cell {
        Cell {
            text: v.map(group_vi).unwrap_or_else(|| "—".into()),
            href: None,
            num: true,
            sort: v.map_or(Sort::Blank, |v| Sort::Num(v as f64)),
            value: Value::int(v),
        }
    }

    /// A number shown as `text` (which may carry a unit or an interval), sorted and downloaded as
    /// the number.
    pub(crate) fn number(v: Option<f64>, text: String, places: usize) -> Cell {
        Cell {
            text: if v.is_some() { text } else { "—".into() },
            href: None,
            num: true,
            sort: v.map_or(Sort::Blank, Sort::Num),
            value: Value::num(v, places),
        }
    }

    pub(crate) fn with_href(mut self, href: String) -> Cell {
        self.href = Some(href);
        self
    }

    /// Sorts by a date written `dd/mm/yyyy` on screen: by the ISO day behind it.
    pub(crate) fn date(text: String, iso: Option<String>) -> Cell {
        Cell {
            sort: iso.map_or(Sort::Blank, Sort::Text),
            value: text_value(&text),
            text,
            href: None,
            num: false,
        }
    }
}

pub(crate) struct Row {
    pub cells: Vec<Cell>,
    /// The filters this row passes (ids of [`Grid::filters`]).
    pub tags: Vec<&'static str>,
    /// The row's group under each grouping (id of [`Grid::groups`], label).
    pub groups: Vec<(&'static str, String)>,
    pub class: &'static str,
    /// The unit of the row, for scripts and tests (`data-unit`).
    pub unit: Option<String>,
}

/// A choice of the filter or grouping select.
pub(crate) struct Choice {
    pub id: &'static str,
    pub label: &'static str,
}

/// Column names from literals.
pub(crate) fn columns(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| n.to_string()).collect()
}

/// Everything shown is a filter that passes every row.
pub(crate) const ALL: &str = "tat-ca";

pub(crate) struct Grid {
    pub title: String,
    pub columns: Vec<String>,
    pub rows: Vec<Row>,
    /// The filters offered, with [`ALL`] among them where it is meant.
    pub filters: Vec<Choice>,
    pub default_filter: &'static str,
    pub groups: Vec<Choice>,
    /// The download's file name, without extension.
    pub file: String,
}

struct HeadCell<'a> {
    name: &'a str,
    href: String,
    sort: &'static str,
    arrow: &'static str,
    num: bool,
}

struct Shown<'a> {
    group: Option<String>,
    row: &'a Row,
}

struct Option2 {
    value: &'static str,
    label: &'static str,
    selected: bool,
}

#[derive(Template)]
#[template(path = "grid.html")]
struct GridView<'a> {
    title: &'a str,
    hidden: Vec<(String, String)>,
    filters: Vec<Option2>,
    groups: Vec<Option2>,
    head: Vec<HeadCell<'a>>,
    width: usize,
    rows: Vec<Shown<'a>>,
    summary: String,
    csv: String,
    xlsx: String,
    prev: Option<String>,
    next: Option<String>,
    page_label: String,
}

/// Percent-encodes a query value (what a URL needs around Vietnamese names and `&`).
pub(crate) fn encode(v: &str) -> String {
    let mut out = String::new();
    for b in v.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn href(path: &str, params: &[(String, String)]) -> String {
    let q: Vec<String> = params
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect();
    format!("{path}?{}", q.join("&"))
}

fn compare(a: &Sort, b: &Sort, desc: bool) -> std::cmp::Ordering {
    use std::cmp::Ordering::*;
    match (a, b) {
        (Sort::Blank, Sort::Blank) => Equal,
        (Sort::Blank, _) => Greater,
        (_, Sort::Blank) => Less,
        (Sort::Num(x), Sort::Num(y)) if desc => y.total_cmp(x),
        (Sort::Num(x), Sort::Num(y)) => x.total_cmp(y),
        (Sort::Text(x), Sort::Text(y)) if desc => y.cmp(x),
        (Sort::Text(x), Sort::Text(y)) => x.cmp(y),
        (Sort::Num(_), Sort::Text(_)) => Less,
        (Sort::Text(_), Sort::Num(_)) => Greater,
    }
}

/// What a query selects: the rows in order with their group labels, the filter and the grouping.
struct Selection<'a> {
    rows: Vec<(Option<String>, &'a Row)>,
    show: &'static str,
    group: Option<&'static str>,
}

impl Grid {
    /// The rows the query selects, in its order, each with its group label.
    fn select(&self, q: &GridQuery) -> Selection<'_> {
        let show = q
            .show
            .as_deref()
            .and_then(|s| self.filters.iter().find(|f| f.id == s))
            .map_or(self.default_filter, |f| f.id);
        let group = q
            .group
            .as_deref()
            .and_then(|g| self.groups.iter().find(|c| c.id == g))
            .map(|c| c.id);
        let mut rows: Vec<&Row> = self
            .rows
            .iter()
            .filter(|r| show == ALL || r.tags.contains(&show))
            .collect();
        if let Some(col) = q.sort.filter(|&c| c < self.columns.len()) {
            let desc = q.desc == Some(1);
            rows.sort_by(|a, b| compare(&a.cells[col].sort, &b.cells[col].sort, desc));
        }
        let label = |r: &Row| group.and_then(|g| r.groups.iter().find(|(id, _)| *id == g).map(|(_, l)| l.clone()));
        let mut out: Vec<(Option<String>, &Row)> = rows.into_iter().map(|r| (label(r), r)).collect();
        if group.is_some() {
            // Groups in the order of their labels, blank last; rows keep their order inside a group.
            out.sort_by(|a, b| match (&a.0, &b.0) {
                (Some(x), Some(y)) => pbgdpl_catalog::text::fold(x).cmp(&pbgdpl_catalog::text::fold(y)),
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, None) => std::cmp::Ordering::Equal,
            });
        }
        Selection { rows: out, show, group }
    }

    /// The download of the selected rows (every page), with the group as a first column when grouped.
    pub(crate) fn download(&self, q: &GridQuery, format: &str) -> Result<Response, AppError> {
        let Selection { rows, group, .. } = self.select(q);
        let group_name = group.and_then(|g| self.groups.iter().find(|c| c.id == g).map(|c| c.label));
        let mut columns: Vec<String> = group_name.into_iter().map(str::to_owned).collect();
        columns.extend(self.columns.iter().cloned());
        let table = Table {
            title: self.title.clone(),
            columns,
            rows: rows
                .iter()
                .map(|(g, r)| {
                    let mut out: Vec<Value> = Vec::new();
                    if group.is_some() {
                        out.push(g.clone().map_or(Value::Empty, Value::Text));
                    }
                    out.extend(r.cells.iter().map(|c| c.value.clone()));
                    out
                })
                .collect(),
        };
        let (bytes, mime) = if format == "csv" {
            (table.to_csv()?, "text/csv; charset=utf-8")
        } else {
            (
                table.to_xlsx()?,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            )
        };
        Ok((
            [
                (header::CONTENT_TYPE, mime.to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{}.{format}\"", self.file),
                ),
            ],
            bytes,
        )
            .into_response())
    }

    /// The table as HTML: the filter form, the counts and downloads, the sortable header, one page of
    /// rows and the links to the others. `path` and `base` are the page's own URL and parameters.
    pub(crate) fn html(&self, q: &GridQuery, path: &str, base: &[(String, String)]) -> Result<String, AppError> {
        let Selection { rows, show, group } = self.select(q);
        let total = rows.len();
        let pages = total.div_ceil(PAGE_ROWS).max(1);
        let page = q.page.unwrap_or(1).clamp(1, pages);
        let state = |sort: Option<usize>, desc: bool, page: Option<usize>| {
            let mut p = base.to_vec();
            if show != self.default_filter {
                p.push(("show".into(), show.into()));
            }
            if let Some(g) = group {
                p.push(("group".into(), g.into()));
            }
            if let Some(s) = sort {
                p.push(("sort".into(), s.to_string()));
                if desc {
                    p.push(("desc".into(), "1".into()));
                }
            }
            if let Some(n) = page.filter(|&n| n > 1) {
                p.push(("page".into(), n.to_string()));
            }
            p
        };
        let desc = q.desc == Some(1);
        let sorted = q.sort.filter(|&c| c < self.columns.len());
        let head = self
            .columns
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let on = sorted == Some(i);
                // A second click on the sorted column reverses it; a number column sorts highest first.
                let num = self.rows.first().is_some_and(|r| r.cells[i].num);
                let next_desc = if on { !desc } else { num };
                HeadCell {
                    name,
                    href: href(path, &state(Some(i), next_desc, None)),
                    sort: match (on, desc) {
                        (false, _) => "none",
                        (true, false) => "ascending",
                        (true, true) => "descending",
                    },
                    arrow: match (on, desc) {
                        (false, _) => "",
                        (true, false) => " ▲",
                        (true, true) => " ▼",
                    },
                    num,
                }
            })
            .collect();
        let mut last: Option<String> = None;
        let shown: Vec<Shown<'_>> = rows
            .iter()
            .enumerate()
            .skip((page - 1) * PAGE_ROWS)
            .take(PAGE_ROWS)
            .map(|(i, (g, r))| {
                // A group's heading before its first row, and again at the top of a page.
                let starts = group.is_some() && (i == (page - 1) * PAGE_ROWS || *g != last);
                last = g.clone();
                Shown {
                    group: starts.then(|| {
                        let n = rows.iter().filter(|(h, _)| h == g).count();
                        format!("{} ({n})", g.clone().unwrap_or_else(|| "Khác".into()))
                    }),
                    row: r,
                }
            })
            .collect();
        let choice = |c: &Choice, on: bool| Option2 {
            value: c.id,
            label: c.label,
            selected: on,
        };
        let download = |format: &str| {
            let mut p = state(sorted, desc, None);
            p.push(("format".into(), format.into()));
            href(path, &p)
        };
        let (from, to) = ((page - 1) * PAGE_ROWS + 1, (page * PAGE_ROWS).min(total));
        render(&GridView {
            title: &self.title,
            hidden: base.to_vec(),
            filters: self.filters.iter().map(|c| choice(c, c.id == show)).collect(),
            groups: self.groups.iter().map(|c| choice(c, Some(c.id) == group)).collect(),
            head,
            width: self.columns.len(),
            rows: shown,
            summary: if total == 0 {
                "Không có dòng nào".into()
            } else if pages == 1 {
                format!("{} dòng", group_vi(total as i64))
            } else {
                format!(
                    "Dòng {}–{} trên {}",
                    group_vi(from as i64),
                    group_vi(to as i64),
                    group_vi(total as i64)
                )
            },
            csv: download("csv"),
            xlsx: download("xlsx"),
            prev: (page > 1).then(|| href(path, &state(sorted, desc, Some(page - 1)))),
            next: (page < pages).then(|| href(path, &state(sorted, desc, Some(page + 1)))),
            page_label: format!("Trang {page}/{pages}"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid() -> Grid {
        let row = |name: &str, v: Option<f64>, kind: &str, tags: Vec<&'static str>| Row {
            cells: vec![Cell::text(name), Cell::number(v, format!("{v:?}"), 1)],
            tags,
            groups: vec![("loai", kind.into())],
            class: "",
            unit: None,
        };
        Grid {
            title: "T".into(),
            columns: columns(&["Đơn vị", "Giá trị"]),
            rows: vec![
                row("Xã Bình", Some(50.0), "Xã", vec!["co-so-lieu"]),
                row("Phường Ân", Some(90.0), "Phường", vec!["co-so-lieu"]),
                row("Xã Đa", None, "Xã", vec![]),
                row("Xã Cư", Some(70.0), "Xã", vec!["co-so-lieu"]),
            ],
            filters: vec![
                Choice {
                    id: "co-so-lieu",
                    label: "Có số liệu",
                },
                Choice {
                    id: ALL,
                    label: "Tất cả",
                },
            ],
            default_filter: "co-so-lieu",
            groups: vec![Choice {
                id: "loai",
                label: "Loại",
            }],
            file: "t".into(),
        }
    }

    fn names(g: &Grid, q: &GridQuery) -> Vec<String> {
        g.select(q).rows.iter().map(|(_, r)| r.cells[0].text.clone()).collect()
    }

    #[test]
    fn the_default_filter_hides_units_without_data_and_all_shows_them() {
        let g = grid();
        assert_eq!(names(&g, &GridQuery::default()), ["Xã Bình", "Phường Ân", "Xã Cư"]);
        let all = GridQuery {
            show: Some(ALL.into()),
            ..Default::default()
        };
        assert_eq!(names(&g, &all).len(), 4);
        // An unknown filter is the default, not an error and not everything.
        let odd = GridQuery {
            show: Some("x".into()),
            ..Default::default()
        };
        assert_eq!(names(&g, &odd).len(), 3);
    }

    #[test]
    fn sorting_puts_blanks_last_either_way_and_folds_vietnamese_letters() {
        let g = grid();
        let q = |sort, desc| GridQuery {
            sort: Some(sort),
            desc,
            show: Some(ALL.into()),
            ..Default::default()
        };
        assert_eq!(names(&g, &q(1, Some(1))), ["Phường Ân", "Xã Cư", "Xã Bình", "Xã Đa"]);
        assert_eq!(names(&g, &q(1, None)), ["Xã Bình", "Xã Cư", "Phường Ân", "Xã Đa"]);
        // Đ sorts as D, after C.
        assert_eq!(names(&g, &q(0, None)), ["Phường Ân", "Xã Bình", "Xã Cư", "Xã Đa"]);
    }

    #[test]
    fn grouping_keeps_the_order_inside_each_group_and_heads_each_group_once() {
        let g = grid();
        let q = GridQuery {
            group: Some("loai".into()),
            sort: Some(1),
            desc: Some(1),
            ..Default::default()
        };
        assert_eq!(names(&g, &q), ["Phường Ân", "Xã Cư", "Xã Bình"]);
        let html = g.html(&q, "/x", &[("period".into(), "2026S1".into())]).unwrap();
        assert_eq!(html.matches("class=\"group\"").count(), 2, "{html}");
        assert!(html.contains("Xã (2)"), "{html}");
        // The links keep the period, the grouping and the order.
        assert!(
            html.contains("href=\"/x?period=2026S1&#38;group=loai&#38;sort=1&#38;desc=1&#38;format=csv\""),
            "{html}"
        );
    }

    #[test]
    fn a_long_table_is_paged_and_the_download_has_every_row() {
        let mut g = grid();
        for i in 0..120 {
            g.rows.push(Row {
                cells: vec![
                    Cell::text(format!("Xã {i:03}")),
                    Cell::number(Some(i as f64), String::new(), 0),
                ],
                tags: vec!["co-so-lieu"],
                groups: vec![],
                class: "",
                unit: None,
            });
        }
        let q = GridQuery {
            page: Some(3),
            ..Default::default()
        };
        let html = g.html(&q, "/x", &[]).unwrap();
        assert!(html.contains("Dòng 101–123 trên 123"), "{html}");
        assert!(html.contains("Trang 3/3"));
        assert!(html.contains("href=\"/x?page=2\""), "a link back: {html}");
        let res = g.download(&q, "csv").unwrap();
        let body = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(axum::body::to_bytes(res.into_body(), usize::MAX))
            .unwrap();
        // A header line and 123 rows.
        assert_eq!(body.iter().filter(|&&b| b == b'\n').count(), 124);
    }
}
