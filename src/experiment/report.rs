//! The report of `sgdlab experiment all`: `report.html`, a self-contained page (inline style,
//! no script, figures as `<img>` of the SVGs by relative path) and `report.md`, the same in
//! Markdown with the SVGs inline. One section per experiment, that is per claim of the
//! lecture: its title and §, the findings with their numbers and verdicts, the notes, the
//! figures and links to the CSVs behind them.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::{Experiment, Outcome, relative, summary_markdown};
use crate::Result;
use crate::files::write_atomically;

/// The two files [`write_report`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportFiles {
    pub html: PathBuf,
    pub markdown: PathBuf,
}

/// Writes `root/report.html` and `root/report.md` for the experiments `done` ran into `root`.
pub fn write_report(
    root: &Path,
    done: &[(&Experiment, Outcome)],
    quick: bool,
) -> Result<ReportFiles> {
    let files = ReportFiles {
        html: root.join("report.html"),
        markdown: root.join("report.md"),
    };
    write_atomically(&files.html, html(root, done, quick).as_bytes())?;
    write_atomically(&files.markdown, markdown(root, done, quick).as_bytes())?;
    Ok(files)
}

const TITLE: &str = "Stochastic gradient descent: the lecture's claims, measured";

fn mode(quick: bool) -> &'static str {
    if quick {
        "--quick (small problem sizes)"
    } else {
        "full problem sizes"
    }
}

/// The Markdown report: each experiment's summary one heading level down, links relative to
/// `root`.
pub fn markdown(root: &Path, done: &[(&Experiment, Outcome)], quick: bool) -> String {
    let mut text = format!(
        "# {TITLE}\n\n`sgdlab experiment all`, {}; {} of {} claims hold.\n",
        mode(quick),
        holding(done),
        claims(done)
    );
    for (experiment, outcome) in done {
        text.push('\n');
        text.push('#');
        text.push_str(&summary_markdown(experiment, outcome, root));
    }
    text
}

fn claims(done: &[(&Experiment, Outcome)]) -> usize {
    done.iter().map(|(_, o)| o.findings.len()).sum()
}

fn holding(done: &[(&Experiment, Outcome)]) -> usize {
    done.iter()
        .flat_map(|(_, o)| &o.findings)
        .filter(|f| f.holds)
        .count()
}

/// The HTML report; see the module docs.
pub fn html(root: &Path, done: &[(&Experiment, Outcome)], quick: bool) -> String {
    let mut page = String::new();
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{}</h1>\n<p><code>sgdlab experiment all</code>, {}; {} of {} claims hold.</p>\n<nav><ul>\n",
        escape(TITLE),
        escape(TITLE),
        escape(mode(quick)),
        holding(done),
        claims(done)
    );
    for (experiment, outcome) in done {
        let _ = writeln!(
            page,
            "<li><a href=\"#{}\">{} ({})</a></li>",
            escape(experiment.name),
            escape(&outcome.title),
            escape(&outcome.lecture)
        );
    }
    page.push_str("</ul></nav>\n");
    for (experiment, outcome) in done {
        section(&mut page, root, experiment, outcome);
    }
    page.push_str("</body>\n</html>\n");
    page
}

fn section(page: &mut String, root: &Path, experiment: &Experiment, outcome: &Outcome) {
    let _ = write!(
        page,
        "<section id=\"{}\">\n<h2>{} <small>(lecture {})</small></h2>\n<p><code>sgdlab experiment {}</code>: {}</p>\n<ul class=\"findings\">\n",
        escape(experiment.name),
        escape(&outcome.title),
        escape(&outcome.lecture),
        escape(experiment.name),
        escape(experiment.about)
    );
    for finding in &outcome.findings {
        let (class, verdict) = if finding.holds {
            ("holds", "holds")
        } else {
            ("fails", "does NOT hold")
        };
        let _ = writeln!(
            page,
            "<li class=\"{class}\"><strong>{}</strong> — <span class=\"verdict\">{verdict}</span>: {}</li>",
            escape(&finding.claim),
            escape(&finding.evidence)
        );
    }
    page.push_str("</ul>\n");
    page.push_str(&markdown_to_html(&outcome.notes));
    for figure in &outcome.figures {
        let svg = escape(&relative(&figure.svg, root));
        let png = escape(&relative(&figure.png, root));
        let stem = figure
            .svg
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let _ = writeln!(
            page,
            "<figure><a href=\"{svg}\"><img src=\"{svg}\" alt=\"{}\" width=\"800\"></a><figcaption>{} (<a href=\"{png}\">PNG</a>)</figcaption></figure>",
            escape(&stem),
            escape(&stem)
        );
    }
    let mut links: Vec<String> = outcome
        .tables
        .iter()
        .map(|table| {
            let csv = escape(&relative(table, root));
            format!("<a href=\"{csv}\">{csv}</a>")
        })
        .collect();
    let summary = escape(&format!("{}/summary.md", experiment.name));
    links.push(format!("<a href=\"{summary}\">{summary}</a>"));
    let _ = writeln!(
        page,
        "<p class=\"files\">Numbers behind the figures: {}</p>",
        links.join(", ")
    );
    if !outcome.numbers.is_empty() {
        page.push_str("<details><summary>Every measured number</summary>\n<table>\n");
        for (key, value) in &outcome.numbers {
            let _ = writeln!(
                page,
                "<tr><td><code>{}</code></td><td>{}</td></tr>",
                escape(key),
                escape(&format_number(*value))
            );
        }
        page.push_str("</table>\n</details>\n");
    }
    page.push_str("</section>\n");
}

/// Four significant digits, in scientific notation for very large or small magnitudes.
fn format_number(value: f64) -> String {
    let magnitude = value.abs();
    if value == 0.0 || !value.is_finite() || (1e-3..1e6).contains(&magnitude) {
        let text = format!("{value:.6}");
        let text = text.trim_end_matches('0').trim_end_matches('.');
        text.to_string()
    } else {
        format!("{value:.4e}")
    }
}

/// The subset of Markdown the experiments' notes use: paragraphs, pipe tables (the `|---|`
/// row dropped), `- ` lists and `` `code` `` spans; everything else is escaped text.
pub fn markdown_to_html(markdown: &str) -> String {
    let mut html = String::new();
    let mut lines = markdown.lines().peekable();
    while let Some(line) = lines.next() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if line.starts_with('|') {
            html.push_str("<table>\n");
            let mut header = true;
            let mut row = Some(line);
            while let Some(current) = row {
                let cells: Vec<&str> = current
                    .trim_matches('|')
                    .split('|')
                    .map(str::trim)
                    .collect();
                let separator = cells
                    .iter()
                    .all(|c| !c.is_empty() && c.chars().all(|ch| matches!(ch, '-' | ':')));
                if !separator {
                    let tag = if header { "th" } else { "td" };
                    html.push_str("<tr>");
                    for cell in cells {
                        let _ = write!(html, "<{tag}>{}</{tag}>", inline(cell));
                    }
                    html.push_str("</tr>\n");
                }
                header = false;
                row = lines.next_if(|l| l.trim().starts_with('|')).map(str::trim);
            }
            html.push_str("</table>\n");
        } else if let Some(item) = line.strip_prefix("- ") {
            html.push_str("<ul>\n");
            let _ = writeln!(html, "<li>{}</li>", inline(item));
            while let Some(next) = lines.next_if(|l| l.trim().starts_with("- ")) {
                let _ = writeln!(html, "<li>{}</li>", inline(&next.trim()[2..]));
            }
            html.push_str("</ul>\n");
        } else {
            let mut paragraph = vec![inline(line)];
            while let Some(next) = lines.next_if(|l| {
                let l = l.trim();
                !l.is_empty() && !l.starts_with('|') && !l.starts_with("- ")
            }) {
                paragraph.push(inline(next.trim()));
            }
            let _ = writeln!(html, "<p>{}</p>", paragraph.join(" "));
        }
    }
    html
}

/// Escaped text with `` `code` `` spans.
fn inline(text: &str) -> String {
    text.split('`')
        .enumerate()
        .map(|(index, part)| {
            if index % 2 == 1 {
                format!("<code>{}</code>", escape(part))
            } else {
                escape(part)
            }
        })
        .collect()
}

/// `text` safe inside HTML elements and double-quoted attributes.
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            _ => escaped.push(ch),
        }
    }
    escaped
}

const STYLE: &str = "body{font-family:sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.45;color:#222}\
h2{border-bottom:1px solid #ccc;padding-bottom:.2rem;margin-top:2.5rem}h2 small{color:#666;font-weight:normal}\
li.holds .verdict{color:#1a7f37;font-weight:bold}li.fails .verdict{color:#c62828;font-weight:bold}\
table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:.2rem .5rem;text-align:right}\
figure{margin:1.5rem 0}img{max-width:100%;height:auto;border:1px solid #eee}figcaption{color:#555;font-size:.9rem}\
code{background:#f4f4f4;padding:0 .2rem}";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_tables_become_html_tables_without_the_separator_row() {
        let html = markdown_to_html(
            "Some `code` & text\nmore\n\n| a | b |\n|---|:-:|\n| 1 | <2> |\n\n- x\n- y\n",
        );
        assert_eq!(
            html,
            "<p>Some <code>code</code> &amp; text more</p>\n<table>\n<tr><th>a</th><th>b</th></tr>\n<tr><td>1</td><td>&lt;2&gt;</td></tr>\n</table>\n<ul>\n<li>x</li>\n<li>y</li>\n</ul>\n"
        );
    }

    #[test]
    fn attributes_are_escaped() {
        assert_eq!(escape("a\"b'<c>&"), "a&quot;b&#39;&lt;c&gt;&amp;");
    }
}
