"""Cold and warm times of the ledger's figures, with the inventory calculations they run.

    .venv/bin/python bench/figures.py                                  # this checkout
    .venv/bin/python bench/figures.py --tree ../before --tree .     # side by side
    .venv/bin/python bench/figures.py --tree A --tree B --repeat 9 --only report

What is measured, for each tree (``--tree PATH``: the code of ``PATH/src``):

* ``dashboard``: ``GET /api/dashboard`` as a group-wide user (an admin, signed in with an API
  token), through the FastAPI app in this process (``fastapi.testclient``; the app's lifespan,
  which warms the inventory cache in a thread, is not run, so the first request computes);
* ``kpi``: ``service.kpi_table(ledger, 2024, "en")``, what ``esgledger kpi --year 2024`` prints;
* ``report``: one report language, ``build_report(ledger, 2024, "en")`` then ``render(...,
  "html")`` (the two steps are also reported apart, as ``report model`` and ``report html``).

Each measurement runs in a fresh process (this script again, with ``PYTHONPATH=PATH/src``;
every ``esgledger`` module loaded is checked to come from there) on a fresh copy of one demo
ledger. First every module of the tree's package is imported (but the migrations and the other
formats' renderers), so no call below pays for imports. Then *setup*, timed on its own row: the
ledger opened and upgraded to the tree's newest schema revision, and for the dashboard the app
and a client made and ``/healthz`` requested once (work a redesign moves here shows here).
Then the call, twice: *cold*, the first call in the process, and *warm*, the second, identical
call. Wall time (``time.perf_counter``) and CPU time of the process, all its threads
(``time.process_time``), are taken around each; the outputs' digests are compared between
runs and trees.

Inventory calls: the code object of ``esgledger.calc.engine.compute_inventory`` is swapped for
a counting one in each child before anything else of the tree is imported, so every call is
counted however the function was reached (``esgledger.calc.compute_inventory``, a name imported
by another module, a reference kept by a memo...); a wrapper the function is defined under
(``__wrapped__``) is seen through, so only real computations count. For each call the
``CalcSettings`` and the calling function are recorded: "calls (a / b)" in the table is the
number of calls, of distinct settings among them (a) and of distinct settings but the years
(b); the JSON lines have the settings and the callers.

Data (untimed): the demo ledger (``esgledger.demo.build_demo``) is built once into a temporary
folder with the code of the first tree (``--data-tree`` to choose another), with the admin and
its API token; every run reads a copy of it, so every tree reads identical data. Runs are
interleaved (for each repeat and measurement, tree A then tree B ...); the figures are the
minimum and median over ``--repeat`` runs, and with several trees the median of the ratios of
the paired runs (tree / first tree). Output: one JSON line per run on stdout (``--json`` also
writes them to a file), then a Markdown table.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import gc
import hashlib
import importlib
import inspect
import json
import os
import pkgutil
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import types
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

HERE = Path(__file__).resolve()
ROOT = HERE.parent.parent
MEASURES = ("dashboard", "kpi", "report")
FORMATS = ("html", "pdf", "docx", "xlsx")
LEDGER_FILE = "demo.db"
TOKEN_FILE = "token.txt"
ADMIN = "bench-admin"
PLUMBING = ("esgledger.service", "esgledger.calc", "esgledger.book")  # origin: the caller above
RENDERERS = {"docx": "word", "xlsx": "workbook"}  # format -> module of esgledger.report
BUILT_AT = "2025-01-01T00:00:00+00:00"  # a fixed stamp: the same report bytes on every run

# --------------------------------------------------------------------------------------------
# child: counting the inventory calculations


class Call(NamedTuple):
    """One call of ``compute_inventory``: its settings, and who called it."""

    settings: str
    settings_but_years: str
    caller: str  # module:function that called it
    origin: str  # the nearest caller outside the service and calculation layers (PLUMBING)


class InventoryCounter:
    """Counts the calls of ``esgledger.calc.engine.compute_inventory`` in this process."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.method = ""

    def install(self) -> None:
        from esgledger.calc import engine  # noqa: PLC0415 (the tree's code, after sys.path)

        target: Any = engine.compute_inventory
        while not isinstance(target, types.FunctionType) and hasattr(target, "__wrapped__"):
            target = target.__wrapped__
        if isinstance(target, types.FunctionType) and not target.__code__.co_freevars:
            self._swap_code(target)
        else:
            self._rebind(engine.compute_inventory)

    def _record(
        self, signature: inspect.Signature | None, args: Any, kwargs: Any, depth: int
    ) -> None:
        settings: Any = None
        if signature is not None:
            with contextlib.suppress(TypeError):
                settings = signature.bind(*args, **kwargs).arguments.get("settings")
        if settings is None:
            settings = next(
                (a for a in (*args, *kwargs.values()) if type(a).__name__.endswith("Settings")),
                None,
            )
        frame: Any = sys._getframe(depth)  # the frame that called compute_inventory
        caller = _where(frame)
        while frame is not None and _where(frame).startswith(PLUMBING):
            frame = frame.f_back
        origin = _where(frame) if frame is not None else caller
        key, key_but_years = _settings_key(settings), _settings_key(settings, False)
        self.calls.append(Call(key, key_but_years, caller, origin))

    def _swap_code(self, function: types.FunctionType) -> None:
        """Keep the function object (every reference to it stays valid), run a counting body
        that calls a copy of the original. No closure: its helpers are keyword defaults."""
        inner = types.FunctionType(
            function.__code__,
            function.__globals__,
            function.__name__,
            function.__defaults__,
            function.__closure__,
        )
        inner.__kwdefaults__ = function.__kwdefaults__
        signature = inspect.signature(function)

        def counting(*args: Any, _bench_inner: Any, _bench_record: Any, **kwargs: Any) -> Any:
            _bench_record(args, kwargs)
            return _bench_inner(*args, **kwargs)

        def record(args: Any, kwargs: Any) -> None:
            self._record(signature, args, kwargs, 3)  # _record <- record <- counting <- caller

        function.__code__ = counting.__code__
        function.__defaults__ = None
        function.__kwdefaults__ = {"_bench_inner": inner, "_bench_record": record}
        self.method = "code swap"

    def _rebind(self, original: Any) -> None:
        """Fallback: replace every module attribute bound to the object (imported by now)."""

        def counting(*args: Any, **kwargs: Any) -> Any:
            self._record(None, args, kwargs, 2)  # _record <- counting <- caller
            return original(*args, **kwargs)

        for module in list(sys.modules.values()):
            names = [n for n, v in list(getattr(module, "__dict__", {}).items()) if v is original]
            for name in names:
                setattr(module, name, counting)
        self.method = "rebind"

    def take(self) -> list[Call]:
        calls, self.calls = self.calls, []
        return calls


def _summary(calls: list[Call]) -> dict[str, Any]:
    return {
        "inventory_calls": len(calls),
        "settings_sets": len({c.settings for c in calls}),
        "settings_sets_but_years": len({c.settings_but_years for c in calls}),
        "settings": dict(Counter(c.settings for c in calls)),
        "callers": dict(Counter(c.caller for c in calls)),
        "origins": dict(Counter(c.origin for c in calls)),
    }


def _where(frame: Any) -> str:
    return f"{frame.f_globals.get('__name__', '?')}:{frame.f_code.co_name}"


def _settings_key(settings: Any, years: bool = True) -> str:
    """Short text of a settings object: a dataclass's fields that differ from their defaults
    (without ``years`` when ``years`` is false), else its repr."""
    if not dataclasses.is_dataclass(settings) or isinstance(settings, type):
        return repr(settings)
    shown = []
    for field in dataclasses.fields(settings):
        value = getattr(settings, field.name)
        if (field.name != "years" or years) and value != field.default:
            value = getattr(value, "value", value)  # an enum member: its value
            shown.append(f"{field.name}={value}")
    return ", ".join(shown) or "defaults"


# --------------------------------------------------------------------------------------------
# child: the measurements


def _timed(
    step: Callable[[], Any], counter: InventoryCounter
) -> tuple[float, float, list[Call], Any]:
    """Wall and CPU seconds of ``step()``, the inventory calls it made, and its result."""
    gc.collect()
    counter.take()
    wall, cpu = time.perf_counter(), time.process_time()
    result = step()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return wall, cpu, counter.take(), result


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def _open_ledger(folder: Path) -> Any:
    from esgledger.store.ledger import Ledger  # noqa: PLC0415

    ledger = Ledger.open(folder / LEDGER_FILE)
    ledger.init()  # the tree's newest schema revision (a no-op when the data is already there)
    return ledger


def _dashboard(folder: Path, year: int) -> tuple[Callable[[], bytes], Callable[[], None]]:
    from fastapi.testclient import TestClient  # noqa: PLC0415

    from esgledger.web.app import create_app  # noqa: PLC0415

    ledger = _open_ledger(folder)
    client = TestClient(create_app(ledger))  # no `with`: no lifespan, so no warm-up thread
    client.headers["Authorization"] = "Bearer " + (folder / TOKEN_FILE).read_text().strip()
    if client.get("/healthz").status_code != 200:
        raise SystemExit("the app does not answer /healthz")

    def call() -> bytes:
        response = client.get("/api/dashboard")  # the latest year, as the page asks
        if response.status_code != 200:
            raise SystemExit(f"GET /api/dashboard: {response.status_code} {response.text[:300]}")
        body = response.json()
        if not body.get("group_wide") or body.get("year") != year:
            raise SystemExit(
                f"GET /api/dashboard: group_wide {body.get('group_wide')}, year "
                f"{body.get('year')} (expected True, {year})"
            )
        return response.content

    def close() -> None:
        client.close()
        ledger.close()

    return call, close


def _kpi(folder: Path, year: int) -> tuple[Callable[[], bytes], Callable[[], None]]:
    from esgledger.service import kpi_table  # noqa: PLC0415

    ledger = _open_ledger(folder)

    def call() -> bytes:
        table, _problems = kpi_table(ledger, year, "en")
        if table.empty:
            raise SystemExit("kpi_table: no rows")
        return table.to_json(orient="records", double_precision=10).encode()

    return call, ledger.close


def _report_steps(
    folder: Path, year: int, lang: str, fmt: str
) -> tuple[Callable[[], Any], Callable[[Any], bytes], Callable[[], None]]:
    from esgledger.report import build_report, render  # noqa: PLC0415

    with contextlib.suppress(ImportError):  # the renderer's own import, out of the cold call
        importlib.import_module(f"esgledger.report.{RENDERERS.get(fmt, fmt)}")
    ledger = _open_ledger(folder)
    stamp = (
        {"built_at": BUILT_AT} if "built_at" in inspect.signature(build_report).parameters else {}
    )

    def model() -> Any:
        return build_report(ledger, year, lang, **stamp)

    def html(report: Any) -> bytes:
        data = render(report, fmt)
        if not data:
            raise SystemExit(f"render {fmt}: empty")
        return data

    return model, html, ledger.close


def _import_tree(fmt: str) -> list[str]:
    """Import every module of the tree's package but the database migrations and the other
    formats' renderers, so that no cold call pays for importing the project (or the libraries
    it imports at module level); the names of the modules that failed to import."""
    import esgledger  # noqa: PLC0415

    skipped = {f"esgledger.report.{RENDERERS.get(f, f)}" for f in FORMATS if f != fmt}
    failed = []
    for found in pkgutil.walk_packages(esgledger.__path__, "esgledger."):
        name = found.name
        if ".migrations" in name or name.endswith("__main__") or name in skipped:
            continue
        try:
            importlib.import_module(name)
        except Exception:  # reported, not fatal (an optional dependency)
            failed.append(name)
    return failed


def _check_tree(tree: Path) -> None:
    """Every esgledger module loaded comes from the tree asked for (not the editable install)."""
    src = (tree / "src").resolve()
    strays = [
        name
        for name, module in list(sys.modules.items())
        if name.split(".")[0] == "esgledger"
        and getattr(module, "__file__", None)
        and not Path(module.__file__).resolve().is_relative_to(src)
    ]
    if strays:
        raise SystemExit(f"modules not from {src}: {strays[:5]}")


def _report_call(
    folder: Path, year: int, lang: str, fmt: str, counter: InventoryCounter
) -> tuple[Callable[[], dict[str, Any]], Callable[[], None]]:
    model, render_fmt, close = _report_steps(folder, year, lang, fmt)

    def call() -> dict[str, Any]:
        wall, cpu, calls, report = _timed(model, counter)
        wall2, cpu2, calls2, data = _timed(lambda: render_fmt(report), counter)
        return {
            "wall_s": wall + wall2,
            "cpu_s": cpu + cpu2,
            **_summary(calls + calls2),
            "steps": {
                "model": {"wall_s": wall, "cpu_s": cpu, "inventory_calls": len(calls)},
                fmt: {"wall_s": wall2, "cpu_s": cpu2, "inventory_calls": len(calls2)},
            },
            "digest": _digest(data),
            "bytes": len(data),
        }

    return call, close


def _single_call(
    step: Callable[[], bytes], counter: InventoryCounter
) -> Callable[[], dict[str, Any]]:
    def call() -> dict[str, Any]:
        wall, cpu, calls, data = _timed(step, counter)
        return {"wall_s": wall, "cpu_s": cpu, **_summary(calls)} | {
            "digest": _digest(data),
            "bytes": len(data),
        }

    return call


def child_measure(spec: dict[str, Any]) -> dict[str, Any]:
    """One measurement in this (new) process: imports and setup, then the cold and warm call."""
    tree, folder, measure = Path(spec["tree"]), Path(spec["folder"]), spec["measure"]
    year, lang, fmt = spec["year"], spec["lang"], spec["format"]
    counter = InventoryCounter()
    counter.install()
    started = time.perf_counter()
    out: dict[str, Any] = {"import_failures": _import_tree(fmt)}
    out["import_s"] = time.perf_counter() - started

    def prepare() -> tuple[Callable[[], dict[str, Any]], Callable[[], None]]:
        if measure == "report":
            return _report_call(folder, year, lang, fmt, counter)
        step, close = (_dashboard if measure == "dashboard" else _kpi)(folder, year)
        return _single_call(step, counter), close

    wall, cpu, calls, (call, close) = _timed(prepare, counter)
    out["setup"] = {"wall_s": wall, "cpu_s": cpu, **_summary(calls)}
    _check_tree(tree)
    out["cold"] = call()
    out["warm"] = call()
    close()
    out["count_method"] = counter.method
    return out


def child_template(spec: dict[str, Any]) -> dict[str, Any]:
    """The demo ledger, the bench admin and its API token, in ``spec['folder']``."""
    from esgledger.auth import accounts  # noqa: PLC0415
    from esgledger.demo import build_demo  # noqa: PLC0415

    folder = Path(spec["folder"])
    started = time.perf_counter()
    ledger, reports = build_demo(folder / LEDGER_FILE)
    try:
        if not all(r.ok for r in reports):
            raise SystemExit("the demo ledger did not build")
        user_id = accounts.create_user(ledger.engine, "bench", ADMIN, "bench-password-1", "admin")
        _token_id, secret = accounts.create_token(ledger.engine, "bench", user_id, "bench")
        (folder / TOKEN_FILE).write_text(secret + "\n")
    finally:
        ledger.close()
    _check_tree(Path(spec["tree"]))
    return {"build_s": time.perf_counter() - started}


# --------------------------------------------------------------------------------------------
# parent


def _git(tree: Path, *args: str) -> str:
    try:
        done = subprocess.run(["git", *args], cwd=tree, capture_output=True, text=True, check=False)
    except OSError:
        return ""
    return done.stdout.strip()


def tree_state(tree: Path) -> dict[str, Any]:
    """The commit of a tree and its uncommitted changes under src/ (at the start of the run)."""
    changes = _git(tree, "status", "--short", "src").splitlines()
    return {"commit": _git(tree, "rev-parse", "--short", "HEAD"), "src_changes": changes}


def machine() -> dict[str, Any]:
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    model = next(
        (line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if "model name" in line),
        platform.processor(),
    )
    return {"nproc": os.cpu_count(), "cpu_model": model, "python": platform.python_version()}


def run_child(tree: Path, spec: dict[str, Any]) -> dict[str, Any]:
    """This script in a new process with the code of ``tree``; its JSON answer."""
    env = {**os.environ, "PYTHONPATH": str(tree.resolve() / "src")}
    command = [sys.executable, str(HERE), "--child", json.dumps({**spec, "tree": str(tree)})]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stderr[-4000:])
        raise SystemExit(f"child {spec.get('measure', 'template')} on {tree} failed")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def labels_of(trees: list[Path]) -> list[str]:
    labels: list[str] = []
    for tree in trees:
        name = tree.resolve().name
        labels.append(name if name not in labels else f"{name}#{len(labels) + 1}")
    return labels


def _emit(line: dict[str, Any], sink: Any) -> None:
    text = json.dumps(line, sort_keys=True)
    print(text, flush=True)
    if sink is not None:
        sink.write(text + "\n")
        sink.flush()


# -- the table ------------------------------------------------------------------------------

ROWS = (
    ("dashboard", "GET /api/dashboard (group-wide)", ()),
    ("kpi", "kpi_table {year}", ()),
    ("report", "report {year} {lang}: model + {format}", ()),
    ("report", "  report model (build_report)", ("steps", "model")),
    ("report", "  report {format} (render)", ("steps", "{format}")),
)


def _pick(run: dict[str, Any], call: str, path: tuple[str, ...], fmt: str) -> dict[str, Any]:
    found = run[call]
    for key in path:
        found = found[key.format(format=fmt)]
    return dict(found)


def _span(values: list[int]) -> str:
    low, high = min(values), max(values)
    return f"{low}" if low == high else f"{low}–{high}"


def markdown(results: list[dict[str, Any]], labels: list[str], args: argparse.Namespace) -> str:
    head = ["figure", "call"]
    for label in labels:
        head += [f"{label} wall s min / med", f"{label} CPU s med", f"{label} inventory calls"]
    for label in labels[1:]:
        head += [f"wall {label}/{labels[0]}", f"CPU {label}/{labels[0]}"]
    lines = ["| " + " | ".join(head) + " |", "|---|---|" + "---:|" * (len(head) - 2)]
    names = {"year": args.year, "lang": args.lang, "format": args.format}
    for measure, title, path in ROWS:
        if measure not in args.only:
            continue
        for call in ("cold", "warm", "setup") if not path else ("cold", "warm"):
            cells = [title.format(**names), call]
            picked: list[list[dict[str, Any]]] = []
            for label in labels:
                runs = [r for r in results if r["tree_label"] == label and r["measure"] == measure]
                figures = [_pick(r, call, path, args.format) for r in runs]
                picked.append(figures)
                walls = [f["wall_s"] for f in figures]
                cpus = [f["cpu_s"] for f in figures]
                calls = _span([f["inventory_calls"] for f in figures])
                if "settings_sets" in figures[0]:
                    sets = _span([f["settings_sets"] for f in figures])
                    calls += f" ({sets} / {_span([f['settings_sets_but_years'] for f in figures])})"
                cells += [
                    f"{min(walls):.3f} / {statistics.median(walls):.3f}",
                    f"{statistics.median(cpus):.3f}",
                    calls,
                ]
            for figures in picked[1:]:
                for key in ("wall_s", "cpu_s"):
                    ratios = [b[key] / a[key] for a, b in zip(picked[0], figures, strict=True)]
                    cells.append(f"{statistics.median(ratios):.2f}")
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def digests_note(results: list[dict[str, Any]], labels: list[str]) -> list[str]:
    """Whether each figure's output is the same in every run and every tree."""
    notes = []
    for measure in sorted({r["measure"] for r in results}):
        seen = {
            label: {
                r[c]["digest"]
                for r in results
                if r["tree_label"] == label and r["measure"] == measure
                for c in ("cold", "warm")
            }
            for label in labels
        }
        everything = set().union(*seen.values())
        if len(everything) == 1:
            notes.append(f"{measure}: identical output in every run and tree")
        else:
            varying = [label for label, found in seen.items() if len(found) > 1]
            notes.append(
                f"{measure}: outputs differ"
                + (f" between runs of {', '.join(varying)}" if varying else " between trees")
            )
    return notes


def callers_note(results: list[dict[str, Any]], labels: list[str]) -> list[str]:
    """Who called ``compute_inventory`` in the cold call of each tree's first run."""
    notes = []
    for label in labels:
        for result in results:
            if result["tree_label"] == label and result["run"] == 0:
                cold = result["cold"]
                callers, origins = (
                    ", ".join(f"`{c}` x{n}" for c, n in sorted(cold[k].items())) or "none"
                    for k in ("callers", "origins")
                )
                notes.append(
                    f"{label} {result['measure']} cold: `compute_inventory` called by {callers};"
                    f" from {origins}"
                )
    return notes


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--tree",
        type=Path,
        action="append",
        help="a checkout whose src/ is measured (repeat to compare; default: this one)",
    )
    parser.add_argument("--repeat", type=int, default=5, help="runs of each (default 5)")
    parser.add_argument(
        "--only", nargs="+", choices=MEASURES, default=list(MEASURES), help="measure only these"
    )
    parser.add_argument("--data-tree", type=Path, help="builds the demo ledger (default: first)")
    parser.add_argument("--year", type=int, default=2024)
    parser.add_argument("--lang", choices=("en", "zh"), default="en")
    parser.add_argument("--format", choices=FORMATS, default="html")
    parser.add_argument("--json", type=Path, help="also write the JSON lines to this file")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        spec = json.loads(args.child)
        answer = child_measure(spec) if "measure" in spec else child_template(spec)
        print(json.dumps(answer))
        return 0
    trees = [t.resolve() for t in (args.tree or [ROOT])]
    for tree in trees:
        if not (tree / "src" / "esgledger").is_dir():
            raise SystemExit(f"{tree}: no src/esgledger here")
    labels = labels_of(trees)
    data_tree = (args.data_tree or trees[0]).resolve()
    sink = args.json.open("w", encoding="utf-8") if args.json else None
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="esgledger-figures-") as scratch:
        template = Path(scratch) / "template"
        template.mkdir()
        print(f"building the demo ledger with {data_tree} ...", file=sys.stderr, flush=True)
        built = run_child(data_tree, {"folder": str(template)})
        meta = {
            "kind": "meta",
            "started": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": machine(),
            "trees": {
                label: {"path": str(t), **tree_state(t)}
                for label, t in zip(labels, trees, strict=True)
            },
            "data_tree": str(data_tree),
            "template_build_s": built["build_s"],
            "loadavg_start": os.getloadavg(),
            "repeat": args.repeat,
            "year": args.year,
            "lang": args.lang,
            "format": args.format,
            "command": " ".join([Path(sys.executable).name, *sys.argv]),
        }
        _emit(meta, sink)
        for run in range(args.repeat):
            for measure in args.only:
                for label, tree in zip(labels, trees, strict=True):
                    folder = Path(scratch) / f"run-{label}"
                    shutil.copytree(template, folder)
                    spec = {
                        "measure": measure,
                        "folder": str(folder),
                        "year": args.year,
                        "lang": args.lang,
                        "format": args.format,
                    }
                    try:
                        answer = run_child(tree, spec)
                    finally:
                        shutil.rmtree(folder, ignore_errors=True)
                    line = {"kind": "run", "tree_label": label, "measure": measure, "run": run}
                    line |= answer
                    _emit(line, sink)
                    results.append(line)
                    print(
                        f"  {measure} {label} run {run + 1}/{args.repeat}: cold "
                        f"{answer['cold']['wall_s']:.2f} s, warm {answer['warm']['wall_s']:.2f} s",
                        file=sys.stderr,
                        flush=True,
                    )
    ended = {"kind": "end", "loadavg_end": os.getloadavg()}
    _emit(ended, sink)
    if sink is not None:
        sink.close()
    load = (meta["loadavg_start"][0], ended["loadavg_end"][0])
    print()
    print(
        f"{len(trees)} tree(s), {args.repeat} runs each, interleaved; "
        f"{meta['machine']['nproc']} CPUs, Python {meta['machine']['python']}; "
        f"load average (1 min) {load[0]:.1f} at the start, {load[1]:.1f} at the end"
    )
    print()
    print(markdown(results, labels, args))
    print()
    print(
        "Wall s: minimum / median of the runs; CPU s: median of the process's CPU time (all "
        "threads). Inventory calls: calls of `compute_inventory` in the call (distinct "
        "settings / distinct settings but the years). Setup: opening the ledger (and the app), "
        "after the imports, before the cold call."
        + (" Ratios: median of the paired runs' ratios." if len(trees) > 1 else "")
    )
    print()
    for note in digests_note(results, labels) + callers_note(results, labels):
        print(f"- {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
