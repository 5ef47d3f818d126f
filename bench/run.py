"""Benchmark of the inventory calculation against a row-wise pandas script and plain DuckDB.

    python bench/run.py --sizes 1000000 10000000 --repeat 3

For each size the parent generates the synthetic records once (``bench/generate.py``, fixed
seed), stores them as Parquet in ``bench/out/`` with the precomputed factor tables used by the
two baselines, then runs every implementation in a fresh child process (``subprocess``) on that
same data. A child loads the data, resets its peak-RSS mark (``/proc/self/clear_refs``), runs its
implementation ``--repeat`` times and reports wall times, its peak RSS during the runs, the RSS
of the loaded data and the process's ``ru_maxrss``. The parent checks that the implementations
agree on total tCO2e and fails loudly (exit status 1) when they do not.

Implementations:

* ``esgledger``: ``compute_inventory`` (the product path: factor resolution, unit conversion,
  consolidation, energy, market-based scope 2; lines name their factor ids).
* ``esgledger+record_lineage``: the same, then a DuckDB table with one lineage row per record
  and gas (rid -> factor_id, tCO2e), the design the engine avoids.
* ``rowwise_pandas``: ``DataFrame.apply(axis=1)`` with dict look-ups, on a sample; its time for
  the full size is extrapolated from the sample's throughput.
* ``duckdb_plain``: one SQL join of the records to a precomputed factor table per
  (activity type, unit, region, year) and a sum by entity and scope, without lineage.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import os
import platform
import pstats
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from esgledger.calc import InventoryInput, InventoryResult, compute_inventory
from esgledger.calc.normalise import conversions
from esgledger.domain import ConsolidationApproach
from esgledger.factors import CalcSettings, load_library, resolve_factors
from generate import generate, organisation, parameters

OUT = Path(__file__).resolve().parent / "out"
SETTINGS = CalcSettings(approach=ConsolidationApproach.EQUITY_SHARE)
TOLERANCE = 1e-9
IMPLEMENTATIONS = ("esgledger", "esgledger+record_lineage", "rowwise_pandas", "duckdb_plain")
MIB = 2**20

# --------------------------------------------------------------------------------------------
# memory probes (Linux)


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _reset_peak() -> bool:
    """Reset the process's peak-RSS mark (VmHWM); False where the kernel does not allow it."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


# --------------------------------------------------------------------------------------------
# shared inputs


def _boundary() -> pd.DataFrame:
    org = organisation()
    shares = org.consolidation_shares(SETTINGS.approach)
    return pd.DataFrame(
        {
            "entity_id": list(shares),
            "share": list(shares.values()),
            "region": [org.get(e).region for e in shares],
        }
    )


def _gwp() -> pd.DataFrame:
    gwp = load_library().gwp
    return (
        gwp.loc[gwp["gwp_set"] == SETTINGS.gwp_set, ["gas", "value"]]
        .rename(columns={"value": "gwp"})
        .reset_index(drop=True)
    )


def build_factor_table(records: pd.DataFrame) -> pd.DataFrame:
    """tCO2e per record unit for each (activity type, unit, effective region, year).

    The baselines get their factors from the library's own resolution and conversion rules
    (run once per distinct key, here, outside their timings), so the comparison measures the
    join, the arithmetic and the aggregation, not a second factor library.
    """
    library = load_library()
    con = duckdb.connect()
    con.register("raw", records)
    con.register("ents", _boundary())
    keys = con.execute("""
        SELECT DISTINCT r.activity_type::VARCHAR AS activity_type, r.unit::VARCHAR AS unit,
               coalesce(r.region::VARCHAR, e.region) AS region, r.year
        FROM raw r JOIN ents e ON r.entity_id::VARCHAR = e.entity_id""").df()
    con.close()
    types = library.activity_types
    keys = keys[keys["activity_type"].map(types["method"]).ne("instrument")]
    conv, problems = conversions(keys, library, parameters())
    resolved, more = resolve_factors(keys[["activity_type", "region", "year"]], library, SETTINGS)
    errors = [p for p in problems + more if p.severity.name == "ERROR"]
    if errors:
        raise SystemExit(f"factor table: {errors[:3]}")
    co2e = resolved.merge(_gwp(), on="gas", how="left")
    if co2e["gwp"].isna().any():
        raise SystemExit(f"no GWP for {sorted(set(co2e.loc[co2e['gwp'].isna(), 'gas']))}")
    co2e["t_per_basis"] = co2e["ef"] * co2e["gwp"]
    per_basis = co2e.groupby(["activity_type", "region", "year"], as_index=False)[
        "t_per_basis"
    ].sum()
    table = keys.merge(
        conv[["activity_type", "unit", "year", "factor"]], on=["activity_type", "unit", "year"]
    ).merge(per_basis, on=["activity_type", "region", "year"])
    table["tco2e_per_unit"] = table["factor"] * table["t_per_basis"]
    table["scope"] = table["activity_type"].map(types["scope"]).astype("int64")
    return table[["activity_type", "unit", "region", "year", "scope", "tco2e_per_unit"]]


# --------------------------------------------------------------------------------------------
# the implementations (each returns totals by scope, location-based, consolidated)


def _location_totals(result: InventoryResult) -> dict[str, float]:
    lines = result.basis_lines("location")
    by_scope = lines.groupby("scope")["tco2e"].sum()
    return {f"scope{int(s)}": float(v) for s, v in by_scope.items()} | {
        "total": float(lines["tco2e"].sum()),
        "n_records": int(
            lines.loc[
                lines["gas"].isin(("CO2", "CO2e")) | lines["method"].eq("gwp"), "n_records"
            ].sum()
        ),
    }


def run_esgledger(records: pd.DataFrame) -> tuple[dict[str, float], InventoryResult]:
    result = compute_inventory(
        InventoryInput(records, organisation(), parameters=parameters()), load_library(), SETTINGS
    )
    if not result.ok:
        raise SystemExit(f"compute_inventory diagnostics: {result.diagnostics[:3]}")
    return _location_totals(result), result


def materialise_record_lineage(records: pd.DataFrame, result: InventoryResult) -> dict[str, float]:
    """One row per record and gas: rid, factor_id, tCO2e (consolidated), kept in DuckDB."""
    con = duckdb.connect()
    try:
        con.register(
            "raw",
            records[["rid", "entity_id", "year", "activity_type", "quantity", "unit", "region"]],
        )
        con.register("ents", result.boundary)
        con.register("conv", result.conversions[["activity_type", "unit", "year", "factor"]])
        con.register(
            "resolved",
            result.resolved[["activity_type", "region", "year", "gas", "ef", "factor_id"]],
        )
        con.register("gwp", _gwp())
        con.execute("""
            CREATE TABLE lineage AS
            SELECT r.rid, f.factor_id, f.gas,
                   r.quantity * c.factor * f.ef * g.gwp * e.share AS tco2e
            FROM raw r JOIN ents e USING (entity_id)
            JOIN conv c ON r.activity_type = c.activity_type AND r.unit = c.unit
                 AND r.year = c.year
            JOIN resolved f ON r.activity_type = f.activity_type
                 AND coalesce(r.region, e.region) IS NOT DISTINCT FROM f.region
                 AND r.year = f.year
            JOIN gwp g ON f.gas = g.gas""")
        total, rows, recs = con.execute(
            "SELECT sum(tco2e), count(*), count(DISTINCT rid) FROM lineage"
        ).fetchone()
    finally:
        con.close()
    return {"total": float(total), "lineage_rows": int(rows), "n_records": int(recs)}


def run_rowwise(records: pd.DataFrame, factors: pd.DataFrame) -> dict[str, float]:
    """What an analyst writes: a function per row, dict look-ups, then a group-by."""
    library = load_library()
    boundary = _boundary()
    share = dict(zip(boundary["entity_id"], boundary["share"], strict=True))
    home = dict(zip(boundary["entity_id"], boundary["region"], strict=True))
    scope_of = library.activity_types["scope"].to_dict()
    factor = {
        (a, u, r, int(y)): f
        for a, u, r, y, f in factors[
            ["activity_type", "unit", "region", "year", "tco2e_per_unit"]
        ].itertuples(index=False)
    }
    instrument = set(library.activity_types.index[library.activity_types["method"] == "instrument"])

    def tco2e(row: pd.Series) -> float:
        if row["activity_type"] in instrument:
            return 0.0
        region = row["region"] if isinstance(row["region"], str) else home[row["entity_id"]]
        per_unit = factor[(row["activity_type"], row["unit"], region, int(row["year"]))]
        return float(row["quantity"]) * per_unit * share[row["entity_id"]]

    frame = records.copy()
    frame["tco2e"] = frame.apply(tco2e, axis=1)
    frame["scope"] = frame["activity_type"].map(scope_of)
    frame = frame[~frame["activity_type"].isin(instrument)]
    by_scope = frame.groupby("scope", observed=True)["tco2e"].sum()
    return {f"scope{int(s)}": float(v) for s, v in by_scope.items()} | {
        "total": float(frame["tco2e"].sum()),
        "n_records": len(frame),
    }


def run_duckdb_plain(records: pd.DataFrame, factors: pd.DataFrame) -> dict[str, float]:
    con = duckdb.connect()
    try:
        con.register("raw", records)
        con.register("ents", _boundary())
        con.register("factors", factors)
        by_entity = con.execute("""
            SELECT r.entity_id::VARCHAR AS entity_id, f.scope,
                   sum(r.quantity * f.tco2e_per_unit) AS tco2e_gross, count(*) AS n_records
            FROM raw r JOIN ents e USING (entity_id)
            JOIN factors f ON r.activity_type = f.activity_type AND r.unit = f.unit
                 AND coalesce(r.region, e.region) = f.region AND r.year = f.year
            GROUP BY ALL""").df()
    finally:
        con.close()
    by_entity = by_entity.merge(_boundary()[["entity_id", "share"]], on="entity_id")
    by_entity["tco2e"] = by_entity["tco2e_gross"] * by_entity["share"]
    by_scope = by_entity.groupby("scope")["tco2e"].sum()
    return {f"scope{int(s)}": float(v) for s, v in by_scope.items()} | {
        "total": float(by_entity["tco2e"].sum()),
        "n_records": int(by_entity["n_records"].sum()),
    }


# --------------------------------------------------------------------------------------------
# child process: one implementation, one size


def _profile_breakdown(records: pd.DataFrame) -> dict[str, float]:
    """Cumulative seconds of the engine's stages in one profiled compute_inventory call."""
    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.enable()
    run_esgledger(records)
    profiler.disable()
    wall = time.perf_counter() - start
    stats: Any = pstats.Stats(profiler).stats  # {(file, line, name): (cc, nc, tt, ct, callers)}
    wanted = {
        ("resolve.py", "resolve_factors"): "resolve_factors (per distinct key, pandas)",
        ("normalise.py", "conversions"): "conversions (per distinct unit key)",
        ("engine.py", "_emission_lines"): "DuckDB emission join + aggregate",
        ("engine.py", "_energy_lines"): "DuckDB energy join + aggregate",
        ("engine.py", "_finish_energy"): "_finish_energy (per energy line, pandas)",
        ("market.py", "market_based_scope2"): "market_based_scope2 (per entity-year, pandas)",
    }
    found: dict[str, float] = {"profiled wall (cProfile on)": wall}
    for (file, _line, name), (_cc, _nc, _tt, cumulative, _callers) in stats.items():
        label = wanted.get((Path(file).name, name))
        if label is not None:
            found[label] = found.get(label, 0.0) + float(cumulative)
    found["other (prologue, merges, sorting)"] = wall - sum(
        v for k, v in found.items() if k != "profiled wall (cProfile on)"
    )
    return found


def child(spec: dict[str, Any]) -> dict[str, Any]:
    name, repeat = spec["implementation"], int(spec["repeat"])
    load_start = time.perf_counter()
    records = pd.read_parquet(spec["records"])
    factors = pd.read_parquet(spec["factors"])
    if name == "rowwise_pandas":
        records = records.head(int(spec["sample"])).copy()
    load_library()  # loading the packaged CSV files is not part of any timing
    load_seconds = time.perf_counter() - load_start
    gc.collect()
    peak_reset = _reset_peak()
    baseline_kib = _status_kib("VmRSS")

    runs: dict[str, Callable[[], dict[str, float]]] = {
        "esgledger": lambda: run_esgledger(records)[0],
        "rowwise_pandas": lambda: run_rowwise(records, factors),
        "duckdb_plain": lambda: run_duckdb_plain(records, factors),
    }
    times: list[float] = []
    phases: dict[str, list[float]] = {}
    totals: dict[str, float] = {}
    for _ in range(repeat):
        gc.collect()
        if name == "esgledger+record_lineage":
            start = time.perf_counter()
            totals, result = run_esgledger(records)
            middle = time.perf_counter()
            lineage = materialise_record_lineage(records, result)
            end = time.perf_counter()
            del result
            phases.setdefault("compute_inventory", []).append(middle - start)
            phases.setdefault("record_lineage", []).append(end - middle)
            totals = totals | {f"lineage_{k}": v for k, v in lineage.items()}
            times.append(end - start)
        else:
            start = time.perf_counter()
            totals = runs[name]()
            times.append(time.perf_counter() - start)
    peak_kib = _status_kib("VmHWM")
    out: dict[str, Any] = {
        "implementation": name,
        "rows": len(records),
        "times": times,
        "phases": phases,
        "totals": totals,
        "load_seconds": load_seconds,
        "rss_loaded_mib": baseline_kib / 1024,
        "peak_rss_mib": peak_kib / 1024,
        "peak_over_loaded_mib": (peak_kib - baseline_kib) / 1024 if peak_reset else None,
        "ru_maxrss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "peak_reset": peak_reset,
    }
    if name == "rowwise_pandas":  # the product on the same sample, for the agreement check
        out["esgledger_on_sample"] = run_esgledger(records)[0]
    if name == "esgledger" and spec.get("profile"):
        out["breakdown"] = _profile_breakdown(records)
    return out


# --------------------------------------------------------------------------------------------
# parent


def machine() -> dict[str, Any]:
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in cpuinfo.splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    meminfo = Path("/proc/meminfo").read_text() if Path("/proc/meminfo").exists() else ""
    total_kib = next(
        (int(line.split()[1]) for line in meminfo.splitlines() if line.startswith("MemTotal:")), 0
    )
    import pyarrow  # noqa: PLC0415 (version only)

    return {
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "ram_gib": round(total_kib / 2**20, 1),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "pandas": pd.__version__,
        "numpy": np.__version__,
        "pyarrow": pyarrow.__version__,
        "platform": platform.platform(),
    }


def _source_state() -> dict[str, str]:
    """The commit measured and whether src/ had uncommitted changes at the time."""
    root = Path(__file__).resolve().parent.parent

    def git(*args: str) -> str:
        try:
            done = subprocess.run(
                ["git", *args], cwd=root, capture_output=True, text=True, check=False
            )
        except OSError:
            return ""
        return done.stdout.strip()

    return {"commit": git("rev-parse", "HEAD"), "src_changes": git("status", "--short", "src")}


def _run_child(spec: dict[str, Any]) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile("r", suffix=".json", dir=OUT, delete=False) as handle:
        target = Path(handle.name)
    spec = spec | {"output": str(target)}
    command = [sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(spec)]
    completed = subprocess.run(command, check=False)
    try:
        if completed.returncode != 0:
            raise SystemExit(f"child {spec['implementation']} failed ({completed.returncode})")
        return dict(json.loads(target.read_text()))
    finally:
        target.unlink(missing_ok=True)


def _relative(a: float, b: float) -> float:
    return abs(a - b) / max(abs(a), abs(b), 1e-300)


def _summary(result: dict[str, Any], size: int) -> dict[str, Any]:
    times = result["times"]
    best, median = min(times), statistics.median(times)
    rows = result["rows"]
    summary = {"best_s": best, "median_s": median, "rows_per_s": rows / best, "extrapolated": False}
    if rows != size:  # a sample: extrapolate linearly to the full size
        summary |= {
            "extrapolated": True,
            "sample_rows": rows,
            "extrapolated_best_s": best * size / rows,
            "extrapolated_median_s": median * size / rows,
        }
    return summary


def check_agreement(results: dict[str, dict[str, Any]]) -> list[str]:
    """The failures of the cross-checks (empty when everything agrees)."""
    failures = []
    product = results["esgledger"]["totals"]
    pairs = [
        ("duckdb_plain vs esgledger", results["duckdb_plain"]["totals"]["total"], product["total"]),
        (
            "record lineage vs esgledger",
            results["esgledger+record_lineage"]["totals"]["lineage_total"],
            product["total"],
        ),
        (
            "esgledger (lineage child) vs esgledger",
            results["esgledger+record_lineage"]["totals"]["total"],
            product["total"],
        ),
        (
            "rowwise_pandas vs esgledger on the same sample",
            results["rowwise_pandas"]["totals"]["total"],
            results["rowwise_pandas"]["esgledger_on_sample"]["total"],
        ),
    ]
    for label, a, b in pairs:
        diff = _relative(a, b)
        results.setdefault("_checks", {})[label] = diff
        if not diff < TOLERANCE:
            failures.append(f"{label}: {a!r} vs {b!r} (relative difference {diff:.3e})")
    counts = [
        ("duckdb_plain", results["duckdb_plain"]["totals"]["n_records"]),
        ("record lineage", results["esgledger+record_lineage"]["totals"]["lineage_n_records"]),
    ]
    for label, n in counts:
        if n != product["n_records"]:
            failures.append(f"{label} joined {n} records, esgledger {product['n_records']}")
    return failures


def _print_table(size: int, results: dict[str, dict[str, Any]]) -> None:
    try:
        from rich.console import Console  # noqa: PLC0415
        from rich.table import Table  # noqa: PLC0415
    except ImportError:  # pragma: no cover - rich is a dependency
        Console = None  # noqa: N806
    header = [
        "implementation",
        "rows timed",
        "first s",
        "best s",
        "median s",
        "records/s",
        f"s at {size:,}",
        "peak RSS MiB",
        "peak over data MiB",
    ]
    rows = []
    for name in IMPLEMENTATIONS:
        r = results[name]
        s = r["summary"]
        full = (
            f"{s['extrapolated_best_s']:,.0f} (extrapolated)"
            if s["extrapolated"]
            else f"{s['best_s']:,.2f}"
        )
        rows.append(
            [
                name,
                f"{r['rows']:,}",
                f"{r['times'][0]:.3f}",
                f"{s['best_s']:.3f}",
                f"{s['median_s']:.3f}",
                f"{s['rows_per_s']:,.0f}",
                full,
                f"{r['peak_rss_mib']:,.0f}",
                "-" if r["peak_over_loaded_mib"] is None else f"{r['peak_over_loaded_mib']:,.0f}",
            ]
        )
    lineage = results["esgledger+record_lineage"]["phases"]
    note = (
        f"record lineage phase alone: best {min(lineage['record_lineage']):.3f} s "
        f"(compute_inventory in that child: best {min(lineage['compute_inventory']):.3f} s)"
    )
    if Console is not None:
        table = Table(title=f"{size:,} records")
        for column in header:
            table.add_column(column, justify="left" if column == "implementation" else "right")
        for row in rows:
            table.add_row(*row)
        Console(width=150).print(table)
        Console(width=150).print(note)
    else:
        print(f"{size:,} records")
        for row in [header, *rows]:
            print(" | ".join(row))
        print(note)


def parent(args: argparse.Namespace) -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {
        "machine": machine(),
        "repeat": args.repeat,
        "settings": {"approach": SETTINGS.approach.value, "gwp_set": SETTINGS.gwp_set},
        "rowwise_sample": args.rowwise_sample,
        "dtype": args.dtype,
        "spread": args.spread,
        "source": _source_state(),
        "sizes": {},
    }
    failures: list[str] = []
    for size in args.sizes:
        start = time.perf_counter()
        data = generate(size, dtype=args.dtype, spread=args.spread)
        generate_s = time.perf_counter() - start
        records_path = OUT / f"records_{size}.parquet"
        factors_path = OUT / f"factors_{size}.parquet"
        data.records.to_parquet(records_path, index=False)
        start = time.perf_counter()
        factors = build_factor_table(data.records)
        factor_table_s = time.perf_counter() - start
        factors.to_parquet(factors_path, index=False)
        described = {
            "generate_s": generate_s,
            "factor_table_s": factor_table_s,
            "factor_table_rows": len(factors),
            "activity_types": int(data.records["activity_type"].nunique()),
            "units": int(data.records["unit"].nunique()),
            "provinces": int(data.records["region"].nunique()),
            "instrument_records": int(
                data.records["activity_type"].isin(("gec", "green_power")).sum()
            ),
        }
        del data, factors
        print(
            f"\n{size:,} records generated in {generate_s:.1f} s; factor table for the "
            f"baselines ({described['factor_table_rows']:,} keys) in {factor_table_s:.1f} s",
            flush=True,
        )
        results: dict[str, dict[str, Any]] = {}
        for name in IMPLEMENTATIONS:
            print(f"  running {name} ...", flush=True)
            results[name] = _run_child(
                {
                    "implementation": name,
                    "repeat": args.repeat,
                    "records": str(records_path),
                    "factors": str(factors_path),
                    "sample": args.rowwise_sample,
                    "profile": args.profile,
                }
            )
            results[name]["summary"] = _summary(results[name], size)
        problems = check_agreement(results)
        failures += [f"{size:,}: {p}" for p in problems]
        best = {name: results[name]["summary"]["best_s"] for name in IMPLEMENTATIONS}
        rowwise_full = results["rowwise_pandas"]["summary"]["extrapolated_best_s"]
        lineage_phase = min(results["esgledger+record_lineage"]["phases"]["record_lineage"])
        ratios = {
            "rowwise_extrapolated_over_esgledger": rowwise_full / best["esgledger"],
            "esgledger_over_duckdb_plain": best["esgledger"] / best["duckdb_plain"],
            "record_lineage_phase_over_duckdb_plain": lineage_phase / best["duckdb_plain"],
            "esgledger_with_lineage_over_esgledger": best["esgledger+record_lineage"]
            / best["esgledger"],
        }
        report["sizes"][str(size)] = {
            "data": described,
            "results": results,
            "ratios": ratios,
            "checks": results.pop("_checks", {}),
            "failures": problems,
        }
        _print_table(size, results)
        for label, value in ratios.items():
            print(f"  {label}: {value:,.2f}")
        if "breakdown" in results["esgledger"]:
            print("  compute_inventory stages (one cProfile'd call, cumulative s):")
            for label, value in results["esgledger"]["breakdown"].items():
                print(f"    {label:<50} {value:8.2f}")
        if not args.keep_data:
            records_path.unlink(missing_ok=True)
            factors_path.unlink(missing_ok=True)
        (OUT / f"results-{args.spread}.json").write_text(json.dumps(report, indent=2, default=str))
    print(f"\nwrote {OUT / f'results-{args.spread}.json'}")
    if failures:
        print("\nAGREEMENT CHECK FAILED:\n  " + "\n  ".join(failures), file=sys.stderr)
        return 1
    print(f"all implementations agree on total tCO2e (relative difference < {TOLERANCE:g})")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--rowwise-sample",
        type=int,
        default=100_000,
        help="rows timed for the row-wise pandas script (then extrapolated)",
    )
    parser.add_argument(
        "--profile",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also run one cProfile'd compute_inventory for a stage breakdown",
    )
    parser.add_argument(
        "--keep-data", action="store_true", help="keep the generated Parquet files in bench/out"
    )
    parser.add_argument(
        "--dtype",
        choices=("str", "category"),
        default="str",
        help="dtype of the text columns (str, as Ledger.activity_frame returns, or category)",
    )
    parser.add_argument(
        "--spread",
        choices=("sites", "all"),
        default="sites",
        help="provinces per entity: its three sites (realistic) or all 30 (stress case)",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        spec = json.loads(args.child)
        Path(spec["output"]).write_text(json.dumps(child(spec), default=str))
        return 0
    return parent(args)


if __name__ == "__main__":
    sys.exit(main())
