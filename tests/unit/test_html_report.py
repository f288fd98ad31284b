"""html_report.py: a well-formed, self-contained page; a red cell where a clause broke; hub text escaped."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from oxen_contract.reporting.baseline import changes_since, load_history
from oxen_contract.reporting.html_report import render_html

from .test_baseline import CREATED, DEPLOY, GONE, failure, lenient, make_report

SCRIPT = "<script>alert('x')</script>"
# Elements HTML never closes.
VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"})


class _Page(HTMLParser):
    """Checks that every element is closed, in order, and keeps what the tests look at."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.problems: list[str] = []
        self.attributes: list[tuple[str, str, str | None]] = []
        self.tags: list[str] = []
        # The grid: its header cells, and per row the clause and each cell's class.
        self.grid_head: list[str] = []
        self.grid_rows: list[list[tuple[str, str]]] = []
        self._cell: tuple[str, list[str]] | None = None
        self._classes: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes += [(tag, name, value) for name, value in attrs]
        in_grid = "grid" in self._classes
        if tag not in VOID:
            self.open.append(tag)
            self._classes.append(dict(attrs).get("class") or "")
        if tag == "tr" and in_grid and "tbody" in self.open:
            self.grid_rows.append([])
        if tag in ("td", "th") and in_grid:
            self._cell = (dict(attrs).get("class") or "", [])

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes += [(tag, name, value) for name, value in attrs]

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        if not self.open or self.open[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.open[-1] if self.open else 'nothing'}")
            return
        self.open.pop()
        self._classes.pop()
        if tag in ("td", "th") and self._cell is not None:
            css, text = self._cell
            if "thead" in self.open:
                self.grid_head.append("".join(text).strip())
            elif "tbody" in self.open and self.grid_rows:
                self.grid_rows[-1].append((css, "".join(text).strip()))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell[1].append(data)


def _parse(page: str) -> _Page:
    parsed = _Page()
    parsed.feed(page)
    parsed.close()
    assert parsed.problems == []
    assert parsed.open == [], f"never closed: {parsed.open}"
    return parsed


def _grid_cell(page: _Page, clause: str, operation: str) -> str:
    column = page.grid_head.index(operation)
    for row in page.grid_rows:
        if row[0][1].startswith(clause):
            return row[column][0]
    raise AssertionError(f"no grid row for {clause}")


@pytest.fixture
def runs(tmp_path: Path) -> list[dict[str, Any]]:
    """Three nights saved as the plugin saves them: held, then a fault switched on, then a hostile path."""
    nights = [
        make_report(started="2026-11-27T02:00:00+00:00"),
        make_report(
            started="2026-11-28T02:00:00+00:00",
            failures=[failure(), failure(model_id="alice:sandbox/ft-1-2-bbbbbb")],
            unknown_fields=["license", "tags"],
        ),
        make_report(
            started="2026-11-29T02:00:00+00:00",
            failures=[failure(), failure("retrieveModel", clause=GONE, method="GET", path=f"/api/ai/models/{SCRIPT}")],
            unknown_fields=["license", SCRIPT],
            open_values={"developer.name": ["OpenAI", SCRIPT]},
            lenient_inputs=[lenient(f"/api/ai/models/x?deployment_status={SCRIPT}")],
            leaks=[{"model_id": SCRIPT, "deleted": False, "detail": SCRIPT, "curl": f"curl -X DELETE '{SCRIPT}'"}],
        ),
    ]
    for night in nights:
        (tmp_path / f"contract-{night['started'][:10]}.json").write_text(json.dumps(night), encoding="utf-8")
    history, skipped = load_history(tmp_path)
    assert skipped == []
    return history


def test_the_page_renders_from_three_saved_runs_as_well_formed_html_with_valid_svg(runs: list[dict[str, Any]]) -> None:
    page = render_html(runs[-1], runs[:-1], changes_since(runs[-1], runs[-2]))
    assert page.startswith("<!DOCTYPE html>")
    parsed = _parse(page)
    svgs = re.findall(r"<svg\b.*?</svg>", page, flags=re.DOTALL)
    assert len(svgs) == 1
    chart = ET.fromstring(svgs[0])
    texts = ["".join(element.itertext()) for element in chart.iter("text")]
    assert "failures" in texts and "fields the contract does not name" in texts
    assert "count per run" in texts and any(text.startswith("run, by date started") for text in texts)
    assert {"2026-11-27", "2026-11-28", "2026-11-29"} <= set(texts)
    # One point per run for each series, plus each series' legend marker.
    assert len(chart.findall("{http://www.w3.org/2000/svg}circle") or chart.findall("circle")) == 3 + 1
    assert len(chart.findall("rect")) == 1 + 3 + 1
    assert "svg" in parsed.tags and "table" in parsed.tags


def test_the_outcome_and_summary_come_first(runs: list[dict[str, Any]]) -> None:
    page = render_html(runs[-1])
    body = page[page.index("<body>") :]
    assert body.index("contract violations") < body.index("CONTRACT VIOLATIONS: 120 checks") < body.index('id="grid"')


def test_the_grid_is_red_where_a_failure_of_the_operation_names_the_clause(runs: list[dict[str, Any]]) -> None:
    parsed = _parse(render_html(runs[-1]))
    assert parsed.grid_head[:4] == ["clause and rule", "deleteModel", "listModels", "retrieveModel"]
    assert _grid_cell(parsed, CREATED, "deleteModel") == "cell broken"
    assert _grid_cell(parsed, CREATED, "retrieveModel") == "cell held"
    assert _grid_cell(parsed, GONE, "retrieveModel") == "cell broken"
    assert _grid_cell(parsed, GONE, "deleteModel") == "cell held"
    # A deploy answer's clause is not about the delete operation: "–", not a grey "unchecked" that reads as a gap.
    assert _grid_cell(parsed, DEPLOY, "deleteModel") == "cell na"
    # Rows with a failure come first.
    assert parsed.grid_rows[0][0][1].startswith(CREATED) and parsed.grid_rows[1][0][1].startswith(GONE)


def test_the_grid_legend_says_what_green_means() -> None:
    page = render_html(make_report())
    assert "checked in this run, no failure of this operation" in page
    assert "cell broken" not in page


def test_an_operation_without_an_answer_checked_is_grey_not_green() -> None:
    report = make_report()
    report["coverage"]["activateModel"] = {}
    assert _grid_cell(_parse(render_html(report)), CREATED, "activateModel") == "cell unchecked"


def test_a_script_in_a_path_drift_value_or_leak_is_escaped(runs: list[dict[str, Any]]) -> None:
    page = render_html(runs[-1], runs[:-1], changes_since(runs[-1], runs[-2]))
    assert "<script" not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page
    assert "script" not in _parse(page).tags


def test_the_page_fetches_nothing(runs: list[dict[str, Any]]) -> None:
    page = render_html(runs[-1], runs[:-1], changes_since(runs[-1], runs[-2]))
    for tag, name, value in _parse(page).attributes:
        if name in ("src", "href", "xlink:href", "action", "poster", "data"):
            assert not re.match(r"\s*(https?:)?//", value or ""), f"<{tag} {name}={value!r}>"
    assert "@import" not in page
    assert "url(" not in page
    assert not re.search(r"<(link|script|img|iframe|object)\b", page)


def test_the_new_since_the_baseline_section_is_there_only_with_changes(runs: list[dict[str, Any]]) -> None:
    assert 'id="new"' not in render_html(runs[-1])
    page = render_html(runs[-1], changes=changes_since(runs[-1], runs[-2]))
    section = page[page.index('id="new"') : page.index("</section>", page.index('id="new"'))]
    assert "1 new failure (retrieveModel rule:deleted-model-is-gone)" in section
    assert "New fields the contract does not name" in section
    quiet = render_html(runs[0], changes=changes_since(runs[0], runs[0]))
    assert "nothing new since the baseline: contract held" in quiet


def test_no_history_draws_no_chart_and_a_clean_run_says_none(runs: list[dict[str, Any]]) -> None:
    page = render_html(runs[0])
    assert "<svg" not in page
    _parse(page)
    # Failures, vanished fields, leaks and unsettled deploys say so in a paragraph; the empty tables in a cell.
    assert page.count('<p class="none">None.</p>') == 4


def test_the_chart_counts_this_run_once_when_the_history_holds_it_too(runs: list[dict[str, Any]]) -> None:
    svg = re.findall(r"<svg\b.*?</svg>", render_html(runs[-1], runs), flags=re.DOTALL)[0]
    assert len(ET.fromstring(svg).findall("circle")) == 3 + 1


# Measures, in the rendered page, the contrast of every element's own text against the background it is drawn on
# (WCAG 2.x relative luminance), and writes what falls short of AA into the body's data-contrast attribute.
_CONTRAST_PROBE = """<script>
function rgb(text) { const m = text.match(/[\\d.]+/g); return m ? m.map(Number) : [0, 0, 0, 0]; }
function lum(c) {
  const [r, g, b] = c.slice(0, 3).map(v => {
    v /= 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}
function background(el) {
  for (; el; el = el.parentElement) {
    const c = rgb(getComputedStyle(el).backgroundColor);
    if (c.length < 4 || c[3] > 0) return c;
  }
  return [255, 255, 255];
}
const found = [];
let measured = 0;
for (const el of document.querySelectorAll("body *")) {
  const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
  if (!own) continue;
  const style = getComputedStyle(el);
  const svg = el instanceof SVGElement;
  const fg = rgb(svg ? style.fill : style.color);
  const bg = svg ? [255, 255, 255] : background(el);
  const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
  const ratio = (a + 0.05) / (b + 0.05);
  const size = parseFloat(style.fontSize), bold = parseInt(style.fontWeight) >= 700;
  const needed = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
  measured += 1;
  if (ratio < needed) found.push(el.tagName + "." + (el.getAttribute("class") || "") + ": " + ratio.toFixed(2));
}
document.body.setAttribute("data-contrast", JSON.stringify({measured, found}));
</script>"""


def _browser() -> str | None:
    import shutil

    for name in ("chromium-headless-shell", "chromium", "chromium-browser", "google-chrome", "firefox"):
        found = shutil.which(name)
        if found:
            return found
    return None


def test_the_page_s_text_meets_wcag_aa_contrast_in_a_real_browser(runs: list[dict[str, Any]], tmp_path: Path) -> None:
    import html
    import subprocess

    browser = _browser()
    if browser is None:
        pytest.skip("no headless browser installed (apt-get install chromium-headless-shell, or chromium or firefox)")
    page = render_html(runs[-1], runs[:-1], changes_since(runs[-1], runs[-2]))
    probe = tmp_path / "report.html"
    probe.write_text(page.replace("</body>", _CONTRAST_PROBE + "</body>"), encoding="utf-8")
    if "firefox" in Path(browser).name:
        pytest.skip("firefox has no --dump-dom: the probe needs a Chromium")
    result = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", probe.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    found = re.search(r'data-contrast="([^"]*)"', result.stdout)
    assert found, result.stderr[-2000:]
    measured = json.loads(html.unescape(found[1]))
    # Every section's text was measured: headings, tables, the grid's cells, the chart's labels.
    assert measured["measured"] > 200
    assert measured["found"] == [], measured["found"]
