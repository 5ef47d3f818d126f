"""Packaged data that scripts generate must equal what the scripts generate now."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT.parent / "shared" / "reference" / "factors"
SEED = ROOT.parent / "shared" / "seed"
needs_shared = pytest.mark.skipif(
    not REFERENCE.exists() or not SEED.exists(), reason="../shared is not beside the project"
)


def _script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@needs_shared
def test_factor_packs_are_built_from_the_reference(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build = _script("build_factor_packs")
    monkeypatch.setattr(build, "OUT", tmp_path)
    monkeypatch.setattr("sys.argv", ["build_factor_packs.py", str(REFERENCE)])
    build.main()
    built = sorted(p.name for p in tmp_path.iterdir())
    assert built == [
        "ef_grid.csv",
        "ef_transport.csv",
        "fuel_parameters.csv",
        "gwp.csv",
        "tce_coefficients.csv",
    ]
    for name in built:
        packaged = (build.DATA / name).read_text(encoding="utf-8")
        assert (tmp_path / name).read_text(encoding="utf-8") == packaged, name


@needs_shared
def test_demo_data_is_what_the_generator_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make = _script("make_demo_data")
    monkeypatch.setattr(make, "OUT", tmp_path)
    make.main()
    for name in ("activity_2024.csv", "direct.csv", "kpi_2024.csv"):
        assert (tmp_path / name).read_text(encoding="utf-8") == (make.DATA / name).read_text(
            encoding="utf-8"
        ), name
