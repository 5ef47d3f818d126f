"""Time the double-materiality aggregation of synthetic survey responses.

    .venv/bin/python bench/materiality.py --responses 10000 100000 --repeat 5

For each size: random 1-5 scores (fixed seed) of respondents in 8 stakeholder groups with
different weights, over the 19 seed topics, half on the impact axis (scale, scope,
irremediability, likelihood) and half on the financial axis (likelihood, magnitude). Timed:
``score_responses`` (validation, per-response scores, group means, weights renormalised per
topic and axis, the arithmetic strings) then ``tiers``. Printed: best and median of
``--repeat`` runs after one warm-up. Target: 10,000 responses in under a second.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import pandas as pd

from esgledger.assess.materiality import score_responses, tiers
from esgledger.assess.topics import load_topics


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


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--responses", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print("| responses | best s | median s |\n|---:|---:|---:|")
    for n in args.responses:
        frame, groups = responses(n)
        tiers(score_responses(frame, groups))  # warm-up
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            result = tiers(score_responses(frame, groups))
            times.append(time.perf_counter() - start)
        assert int(result["impact_n"].sum() + result["financial_n"].sum()) == n
        print(f"| {n:,} | {min(times):.3f} | {statistics.median(times):.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
