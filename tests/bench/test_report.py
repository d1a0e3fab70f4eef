"""The benchmark suite's quick run produces a well-formed report (figures are not asserted)."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from bench import report

REPO = Path(__file__).resolve().parents[2]
SECTIONS = ("cold_process", "pool", "warm", "proxy", "density")
HEADINGS = ("## Summary", "## 1. Cold start", "## 1b. Prewarmed pools", "## 2. Warm execution", "## 3. Proxy vs nginx",
            "## 4. Density")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def suite_temp_dirs() -> set[str]:
    return {name for name in os.listdir(tempfile.gettempdir()) if name.startswith("opr-bench-")}


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    """One `python -m bench.suite --quick` into a temporary directory: (output dir, exit, stderr)."""
    out = tmp_path_factory.mktemp("bench")
    before = suite_temp_dirs()
    done = subprocess.run([sys.executable, "-m", "bench.suite", "--quick", "--out", str(out)],
                          cwd=REPO, capture_output=True, text=True, timeout=900)
    return out, done, suite_temp_dirs() - before


def tables(markdown: str) -> list[list[str]]:
    """The markdown tables of a document, each as its list of lines."""
    found, current = [], []
    for line in markdown.splitlines():
        if line.startswith("|"):
            current.append(line)
        elif current:
            found.append(current)
            current = []
    return found + ([current] if current else [])


def cells(line: str) -> int:
    return line.strip().strip("|").count("|") + 1


@pytest.mark.timeout(900)
def test_quick_suite_writes_results_and_report(quick_run):
    out, done, leftovers = quick_run
    assert done.returncode == 0, done.stderr[-3000:]
    assert not leftovers, f"temporary directories left behind: {leftovers}"

    stamped = [path for path in out.glob("*.json") if path.name != "latest.json"]
    assert len(stamped) == 1, list(out.iterdir())
    results = json.loads((out / "latest.json").read_text())
    assert json.loads(stamped[0].read_text()) == results
    assert results["quick"] is True
    for key in ("cores", "kernel", "docker", "load_average"):
        assert key in results["machine"]
    for name in SECTIONS:
        assert name in results and "error" not in results[name], results.get(name)
    # Each cold start figure has its baseline's raw samples from the same run, as many of each.
    runs = results["plan"]["cold_runs"]
    for language, figures in results["cold_process"]["languages"].items():
        assert len(figures["samples"]["executor"]) == len(figures["samples"]["baseline"]) == runs, language
        assert figures["ratio_p50"] is not None
    if os.environ.get("OPR_TESTS_REQUIRE_DOCKER") == "1":
        assert results["cold_docker"].get("languages"), results["cold_docker"]


@pytest.mark.timeout(900)
def test_quick_report_is_well_formed_markdown_with_its_charts(quick_run):
    out, done, _ = quick_run
    assert done.returncode == 0, done.stderr[-3000:]
    markdown = (out / "latest.md").read_text()
    assert markdown.startswith("# Benchmark report\n")
    positions = [markdown.index(heading) for heading in HEADINGS]
    assert positions == sorted(positions)
    found = tables(markdown)
    assert len(found) >= len(HEADINGS)
    for lines in found:
        assert len(lines) >= 3, lines  # header, separator, at least one row
        assert re.fullmatch(r"\|(---\|)+", lines[1]), lines[1]
        assert {cells(line) for line in lines} == {cells(lines[0])}, lines
    charts = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", markdown)
    assert set(charts) == set(report.CHARTS.values())
    for chart in charts:
        assert (out / chart).read_bytes()[:8] == PNG_MAGIC, chart


@pytest.mark.timeout(900)
def test_a_failed_section_is_reported_not_raised(quick_run, tmp_path):
    out, done, _ = quick_run
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads((out / "latest.json").read_text())
    results["warm"] = {"error": "RuntimeError: warm runtime did not start"}
    (tmp_path / report.CHARTS["warm"]).write_bytes(PNG_MAGIC)  # a stale chart of an earlier run
    report.write(results, tmp_path)
    markdown = (tmp_path / "latest.md").read_text()
    section = markdown[markdown.index("## 2. Warm"):markdown.index("## 3. Proxy")]
    assert "failed: `RuntimeError: warm runtime did not start`" in section
    assert not (tmp_path / report.CHARTS["warm"]).exists()
    assert report.CHARTS["warm"] not in markdown
