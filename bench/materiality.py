"""Time the double-materiality aggregation of synthetic survey responses.

    .venv/bin/python bench/materiality.py --responses 10000 100000 --repeat 5

For each size: random 1-5 scores (fixed seed) of respondents in 8 stakeholder groups with
different weights, over the 19 seed topics, half on the impact axis (scale, scope,
irremediability, likelihood) and half on the financial axis (likelihood, magnitude). Timed:
``score_responses`` (validation, per-response scores, group means, weights renormalised per
topic and axis, the arithmetic strings) then ``tiers``. Printed: best and median of
``--repeat`` runs after one warm-up. Target: 10,000 responses in under a second.

With ``--ledger``, the responses are also stored in a new SQLite ledger (one campaign of the
19 topics and the 8 groups, rows inserted in bulk) and ``survey_results.campaign_results`` is timed:
reading them back from the ledger, then the same scoring (what the report and the web page
do).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from esgledger.assess.materiality import score_responses, tiers
from esgledger.assess.topics import load_topics
from esgledger.auth.accounts import operator
from esgledger.store.engine import TABLES
from esgledger.store.ledger import Ledger
from esgledger.usecases import survey, survey_results


def responses(n: int, seed: int = 7) -> tuple[pd.DataFrame, dict[str, float]]:
    rng = np.random.default_rng(seed)
    groups = {f"g{i}": float(i + 1) for i in range(8)}
    scores = rng.integers(1, 6, size=(n, 5)).astype(float)
    axis = rng.choice(["impact", "financial"], size=n)
    financial = axis == "financial"
    frame = pd.DataFrame(
        {
            "respondent": np.arange(n).astype(str),
            "group": rng.choice(list(groups), size=n),
            "topic_id": rng.choice([t.topic_id for t in load_topics()], size=n),
            "axis": axis,
            "scale": np.where(financial, np.nan, scores[:, 0]),
            "scope": np.where(financial, np.nan, scores[:, 1]),
            "irremediability": np.where(financial, np.nan, scores[:, 2]),
            "likelihood": scores[:, 3],
            "magnitude": np.where(financial, scores[:, 4], np.nan),
            "positive": False,
        }
    )
    return frame, groups


def stored(frame: pd.DataFrame, groups: dict[str, float], folder: Path) -> tuple[Ledger, int]:
    """A new ledger holding ``frame`` as the responses of one campaign."""
    ledger = Ledger.open(folder / "bench.db")
    ledger.init()
    cid = survey.create_campaign(
        ledger.engine,
        operator("bench"),
        2024,
        "benchmark",
        datetime.now(UTC) + timedelta(days=1),
        [survey.SurveyGroup(g, "impact", w) for g, w in groups.items()],
    )
    # every group answers both axes here: rows go in directly, not through submit_response
    rows = frame.drop(columns=["respondent"]).rename(columns={"group": "group_id"})
    rows = rows.astype(object).where(rows.notna(), None)
    rows["campaign_id"] = cid
    rows["submitted_at"] = datetime(2024, 12, 1)
    with ledger.engine.begin() as conn:
        conn.execute(TABLES["survey_response"].insert(), rows.to_dict("records"))
    return ledger, cid


def timed(run: Callable[[], pd.DataFrame], repeat: int) -> tuple[list[float], pd.DataFrame]:
    result = run()  # warm-up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return times, result


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--responses", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--ledger", action="store_true", help="also time the ledger path")
    args = parser.parse_args()
    print("| responses | path | best s | median s |\n|---:|---|---:|---:|")
    for n in args.responses:
        frame, groups = responses(n)
        times, result = timed(lambda f=frame, g=groups: tiers(score_responses(f, g)), args.repeat)
        assert int(result["impact_n"].sum() + result["financial_n"].sum()) == n
        print(f"| {n:,} | library | {min(times):.3f} | {statistics.median(times):.3f} |")
        if args.ledger:
            with tempfile.TemporaryDirectory() as folder:
                ledger, cid = stored(frame, groups, Path(folder))
                times, via = timed(
                    lambda e=ledger.engine, c=cid: survey_results.campaign_results(e, c),
                    args.repeat,
                )
                ledger.close()
            pd.testing.assert_frame_equal(
                via[["impact", "financial"]], result[["impact", "financial"]]
            )
            print(f"| {n:,} | ledger | {min(times):.3f} | {statistics.median(times):.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
