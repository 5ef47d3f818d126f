"""Time building the demo group's 2024 report in every format and language.

    .venv/bin/python bench/report.py --repeat 3

Setup (not timed): the demo ledger in a temporary folder. Timed, for each language: the model
(``build_report``: the ledger's queries, the inventory of every year, the content indexes and
the methodology appendix) once, then each renderer (HTML, PDF, DOCX, XLSX) on that model; the
total of a language is the model plus the four renderers, what ``esgledger report build
--lang <lang> --format all`` does. Each step runs ``--repeat`` times in this process (the
first run of a renderer also imports its library: WeasyPrint, python-docx, matplotlib; it is
reported apart as ``first``); the figures printed are the best and the median of the
repeats after the first, and the first. Target: under 20 s per language.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from esgledger.demo import build_demo
from esgledger.report import FORMATS, build_report, render
from esgledger.report.model import LANGS


def _timed(step: Callable[[], Any], repeat: int) -> tuple[float, list[float], Any]:
    times = []
    result = None
    for _ in range(repeat + 1):
        start = time.perf_counter()
        result = step()
        times.append(time.perf_counter() - start)
    return times[0], times[1:], result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="timed runs after the first")
    parser.add_argument("--year", type=int, default=2024)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        ledger, _ = build_demo(Path(folder) / "demo.db")
        print("| lang | step | first s | best s | median s | size |\n|---|---|---:|---:|---:|---:|")
        for lang in LANGS:
            first, rest, report = _timed(
                lambda lang=lang: build_report(ledger, args.year, lang), args.repeat
            )
            total = min(rest)
            median = statistics.median(rest)
            print(f"| {lang} | model | {first:.2f} | {min(rest):.2f} | {median:.2f} | |")
            for fmt in FORMATS:
                first, rest, data = _timed(
                    lambda fmt=fmt, report=report: render(report, fmt), args.repeat
                )
                total += min(rest)
                print(
                    f"| {lang} | {fmt} | {first:.2f} | {min(rest):.2f} |"
                    f" {statistics.median(rest):.2f} | {len(data) / 1024:,.0f} KiB |"
                )
            print(f"| {lang} | **total (best)** | | **{total:.2f}** | | |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
