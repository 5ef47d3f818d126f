"""Monte Carlo uncertainty benchmark: the set-up and 10,000 iterations over 100,000 records.

    .venv/bin/python bench/uncertainty.py                            # this checkout
    git worktree add ../before cc96dd9                               # the code before issue 17 b
    .venv/bin/python bench/uncertainty.py --tree ../before --tree . --repeat 3

Cases (``--case``, both by default):

* ``inventory``: ``--records`` synthetic activity records of one year (``bench/generate.py``:
  20 entities, every emission activity type, 30 provinces, several units per type, a trickle
  of certificates), given a month (1-12) and a data-quality flag (measured, calculated,
  estimated, reported) each with one seeded generator; their inventory is computed untimed
  (``compute_inventory``, equity share). Timed: ``frame``, the uncertainty frame from the
  inventory and the records (``uncertainty_frame``); then ``propagate`` of that frame.
* ``frame``: a synthetic propagation frame of ``--records`` rows, one record each, over
  ``--factors`` shared factors (activity +/-2 to +/-20 %, a fifth of the factors lognormal;
  the frame of this benchmark before issue 17 b), given to ``propagate`` directly.

``propagate`` is timed twice: with 2 iterations (``setup``: everything before the draws, and two
iterations) and with ``--iterations`` (``run``); ``draws`` = run - setup, iterations/s =
iterations / draws. Variants: ``default`` (the tree's own draw: pooled where the tree pools
normal sources) and, for a tree whose ``propagate`` takes ``pooled``, ``one-by-one``
(``pooled=False``: every error source drawn on its own, the per-record reference). Anchor:
Brightway's Monte Carlo runs at 30-500 iterations a second.

Each (repeat, tree, case, variant) runs in a fresh process (this script with ``--child`` and
``PYTHONPATH=TREE/src``; the child checks that ``esgledger`` comes from there), interleaved:
repeat 1 tree A, tree B, repeat 2 tree A, tree B ... Wall time (``time.perf_counter``) and the
process's CPU time (``time.process_time``, all threads) per phase; one JSON line per run, then a
Markdown table with the minimum and median over the repeats (wall; CPU: the median of frame +
run) and, with several trees, the median of the paired runs' wall-time ratios (tree / first
tree). The deterministic totals of every run of a case must agree (relative difference
< 1e-9) or the script exits 1.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve()
ROOT = HERE.parent.parent
CASES = ("inventory", "frame")
YEAR = 2024
TOLERANCE = 1e-9


def synthetic_frame(n: int, factors: int, seed: int = 42) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    factor_of = rng.integers(0, factors, n)
    factor_values = rng.uniform(0.1, 3.0, factors)
    factor_half = rng.choice([0.03, 0.05, 0.10, 0.50], factors)
    lognormal = rng.random(factors) < 0.2
    return pd.DataFrame(
        {
            "record_id": np.arange(n).astype(str),
            "scope": rng.integers(1, 4, n),
            "quantity": rng.lognormal(3.0, 1.0, n),
            "factor": factor_values[factor_of],
            "factor_id": np.char.add("f", factor_of.astype(str)),
            "activity_uncertainty": rng.choice([0.02, 0.05, 0.10, 0.20], n),
            "factor_uncertainty": factor_half[factor_of],
            "factor_distribution": np.where(lognormal[factor_of], "lognormal", "normal"),
        }
    )


def inventory_case(n: int, seed: int = 11) -> tuple[Any, pd.DataFrame]:
    """The inventory of ``n`` synthetic records of one year, and the records."""
    sys.path.insert(0, str(HERE.parent))
    from esgledger.calc import InventoryInput, compute_inventory  # noqa: PLC0415 (the tree's)
    from esgledger.domain import ConsolidationApproach  # noqa: PLC0415
    from esgledger.factors import CalcSettings, load_library  # noqa: PLC0415
    from generate import generate  # noqa: PLC0415

    data = generate(n)
    rng = np.random.default_rng(seed)
    records = data.records.assign(
        year=YEAR,
        month=rng.integers(1, 13, n),
        record_id=np.char.add("R", data.records["rid"].to_numpy().astype(str)),
        data_quality=rng.choice(["measured", "calculated", "estimated", "reported"], n),
    )
    records["instrument_id"] = np.where(
        records["activity_type"].isin(["gec", "green_power"]), records["record_id"], None
    )
    settings = CalcSettings(approach=ConsolidationApproach.EQUITY_SHARE, years=(YEAR,))
    inputs = InventoryInput(records, data.organisation, parameters=data.parameters)
    return compute_inventory(inputs, load_library(), settings), records


def child(args: argparse.Namespace) -> dict[str, Any]:
    import esgledger  # noqa: PLC0415 (the tree's code, from PYTHONPATH)
    from esgledger.strategy import uncertainty  # noqa: PLC0415

    tree = Path(args.tree[0]).resolve()
    origin = Path(esgledger.__file__).resolve()
    if tree / "src" not in origin.parents:
        raise SystemExit(f"esgledger comes from {origin}, not from {tree}")
    out: dict[str, Any] = {"tree": str(tree), "case": args.case[0], "variant": args.variant}
    if out["case"] == "inventory":  # the inventory is not timed; its uncertainty frame is
        result, records = inventory_case(args.records)
        clock = (time.perf_counter(), time.process_time())
        frame, _ = uncertainty.uncertainty_frame(result, records, None, year=YEAR)
        out["frame_s"] = time.perf_counter() - clock[0]
        out["frame_cpu_s"] = time.process_time() - clock[1]
        out["records"] = len(records)
    else:  # the frame is the input: nothing to build
        frame = synthetic_frame(args.records, args.factors)
        out.update(frame_s=0.0, frame_cpu_s=0.0, records=len(frame))
    out["rows"] = len(frame)
    kwargs = {"pooled": False} if args.variant == "one-by-one" else {}
    for phase, iterations in (("setup", 2), ("run", args.iterations)):
        clock = (time.perf_counter(), time.process_time())
        found = uncertainty.propagate(frame, iterations, seed=1, **kwargs)
        out[f"{phase}_s"] = time.perf_counter() - clock[0]
        out[f"{phase}_cpu_s"] = time.process_time() - clock[1]
    total = found.row("total")
    out.update(
        iterations=args.iterations,
        draws_s=out["run_s"] - out["setup_s"],
        total=total["deterministic"],
        rel_half_width=total["rel_half_width"],
        approach1=total["approach1_rel_half_width"],
    )
    return out


def supports_pooled(tree: Path) -> bool:
    names = ("uncertainty.py", "uncertainty_draws.py")
    texts = [tree / "src/esgledger/strategy" / n for n in names]
    return any(p.exists() and "pooled: bool" in p.read_text(encoding="utf-8") for p in texts)


def spawn(tree: Path, case: str, variant: str, args: argparse.Namespace) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(tree / "src")}
    command = [sys.executable, str(HERE), "--child", "--tree", str(tree), "--case", case]
    command += ["--variant", variant, "--records", str(args.records)]
    command += ["--iterations", str(args.iterations), "--factors", str(args.factors)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"{tree} {case} {variant}: {done.stderr.strip()}")
    found: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def _cell(rows: list[dict[str, Any]], key: str) -> str:
    values = [r[key] for r in rows]
    return f"{min(values):.3f} / {statistics.median(values):.3f}"


def _ratio(rows: list[dict[str, Any]], ref: list[dict[str, Any]], key: str) -> str:
    """Median of the paired runs' ratios (same repeat), blank for the reference itself."""
    if rows is ref or not ref:
        return ""
    return f"{statistics.median(b[key] / a[key] for a, b in zip(ref, rows, strict=False)):.3g}"


def table(runs: list[dict[str, Any]], trees: list[Path]) -> list[str]:
    lines = [
        "| tree | case | variant | rows | frame s | setup s | draws s | iterations/s | "
        "frame + run s | CPU s | setup ratio | frame + run ratio | +/- % (Approach 1) |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in runs:
        r["total_s"] = r["frame_s"] + r["run_s"]
        r["total_cpu_s"] = r["frame_cpu_s"] + r["run_cpu_s"]
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for r in runs:
        groups.setdefault((r["case"], r["tree"], r["variant"]), []).append(r)
    order = {str(t): i for i, t in enumerate(trees)}
    for case, tree, variant in sorted(
        groups, key=lambda k: (CASES.index(k[0]), order[k[1]], k[2] != "default")
    ):
        rows = groups[(case, tree, variant)]
        ref = groups.get((case, str(trees[0]), "default"), [])
        best = min(r["draws_s"] for r in rows)
        lines.append(
            f"| {Path(tree).name} | {case} | {variant} | {rows[0]['rows']:,} | "
            f"{_cell(rows, 'frame_s')} | {_cell(rows, 'setup_s')} | {_cell(rows, 'draws_s')} | "
            f"{rows[0]['iterations'] / best:,.0f} | {_cell(rows, 'total_s')} | "
            f"{statistics.median(r['total_cpu_s'] for r in rows):.3f} | "
            f"{_ratio(rows, ref, 'setup_s')} | {_ratio(rows, ref, 'total_s')} | "
            f"{100 * rows[0]['rel_half_width']:.2f} ({100 * rows[0]['approach1']:.2f}) |"
        )
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--tree", action="append", type=Path, help="a checkout (default: .)")
    parser.add_argument("--case", action="append", choices=CASES)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--iterations", type=int, default=10_000)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--factors", type=int, default=50)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--variant", default="default", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args)))
        return 0
    trees = [t.resolve() for t in (args.tree or [ROOT])]
    cases = args.case or list(CASES)
    print(f"cpus: {os.cpu_count()}  load average at start: {os.getloadavg()}", file=sys.stderr)
    runs = []
    for _ in range(args.repeat):  # interleaved: every tree once per repeat
        for case in cases:
            for tree in trees:
                variants = ["default", "one-by-one"] if supports_pooled(tree) else ["default"]
                for variant in variants:
                    found = spawn(tree, case, variant, args)
                    print(json.dumps(found), flush=True)
                    runs.append(found)
    print(f"load average at end: {os.getloadavg()}", file=sys.stderr)
    print("\n".join(table(runs, trees)))
    bad = []
    for case in cases:
        totals = [r["total"] for r in runs if r["case"] == case]
        if max(totals) - min(totals) > TOLERANCE * abs(totals[0]):
            bad.append(f"{case}: deterministic totals differ: {sorted(set(totals))}")
    for line in bad:
        print(line, file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
