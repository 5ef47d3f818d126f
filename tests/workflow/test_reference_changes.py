"""Changes of calculation inputs (settings, overrides, parameters, context, entities, base-year
changes) go through one use case: refused when they would alter a locked year's figures,
written with their audit entry in one transaction (issue 15, scope 2).

The ledger: the demo with S01's 2025 records (100 MWh of electricity: 53.66 tCO2e at the
national grid factor 0.5366; 10 kg of R-32: 7.71 tCO2e at the AR6 GWP 771), 2025 locked."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from esgledger import audit, figures
from esgledger.auth.accounts import Principal, operator
from esgledger.auth.roles import Role
from esgledger.book.book import current_book
from esgledger.cli import app
from esgledger.demo.build import DEMO_DATA
from esgledger.domain.errors import Forbidden, NotFound
from esgledger.ingest.importer import import_file
from esgledger.store.ledger import Ledger
from esgledger.usecases import reference
from esgledger.workflow.periods import lock_period

SRC = Path(__file__).resolve().parents[2] / "src" / "esgledger"
RECORDS = (
    "record_id,entity_id,period,activity_type,quantity,unit,region,data_quality,activity_date,"
    "instrument_id,ef_value,ef_unit,note\n"
    "L-001,S01,2025-01,electricity,100,MWh,,measured,,,,,late bill\n"
    "L-002,S01,2025-01,refrigerant_r32,10,kg,,measured,,,,,top-up\n"
)
S01_2025 = {"S1": 7.71, "S2L": 53.66, "TOTAL": 61.37}
runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    """Exit code, output and the error output with its lines joined."""
    result = runner.invoke(app, list(args), terminal_width=200)
    return result.exit_code, result.stdout, " ".join(result.stderr.split())


@pytest.fixture
def unlocked(demo_ledger_path: Path, tmp_path: Path) -> Path:
    path = tmp_path / "ledger.db"
    shutil.copy(demo_ledger_path, path)
    records = tmp_path / "late.csv"
    records.write_text(RECORDS, encoding="utf-8")
    with Ledger.open(path) as ledger:
        assert import_file(ledger, records, kind="activity", user="test").ok
    return path


@pytest.fixture
def locked(unlocked: Path) -> Path:
    with Ledger.open(unlocked) as ledger:
        lock_period(ledger.engine, operator("committee"), 2025, force=True)
    return unlocked


def _s01_2025(path: Path) -> dict[str, float | None]:
    with Ledger.open(path) as ledger:
        book = current_book(ledger)
        return {k: figures.value(book, f"ghg:2025:{k}:S01") for k in S01_2025}


def _value(path: Path, figure_id: str) -> float | None:
    with Ledger.open(path) as ledger:
        return figures.value(current_book(ledger), figure_id)


def _head(path: Path) -> int:
    with Ledger.open(path) as ledger:
        return max(int(e["seq"]) for e in audit.entries(ledger.engine, limit=1))


def _entries(path: Path, after_seq: int) -> list[dict[str, Any]]:
    """The audit entries after ``after_seq``, oldest first, ``before``/``after`` parsed."""
    with Ledger.open(path) as ledger:
        found = [e for e in audit.entries(ledger.engine, limit=500) if int(e["seq"]) > after_seq]
    out = []
    for e in sorted(found, key=lambda e: int(e["seq"])):
        row = {k: e[k] for k in ("actor", "action", "object_type", "object_id", "entity_id")}
        for side in ("before", "after"):
            value = e[side]
            row[side] = json.loads(value) if isinstance(value, str) else value
        out.append(row)
    return out


def _refused(err: str, *years: int) -> None:
    """The refusal names the locked years and the way a locked year changes."""
    listed = ", ".join(map(str, years))
    assert f"would change the figures of {listed}, locked by the ESG committee" in err, err
    assert "except an approved adjustment" in err and "/adjustments" in err, err


def _entities_csv(tmp_path: Path, **changes: dict[str, str]) -> Path:
    """The demo's rows of the entities in ``changes`` (or new ones), with those cells changed."""
    lines = (DEMO_DATA / "entities.csv").read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    rows = {r.split(",")[0]: dict(zip(header, r.split(","), strict=True)) for r in lines[1:]}
    out = [",".join(header)]
    for entity_id, cells in changes.items():
        row = rows.get(entity_id, dict.fromkeys(header, "")) | {"entity_id": entity_id} | cells
        out.append(",".join(row[h] for h in header))
    path = tmp_path / "entities.csv"
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return path


# -- the findings: each of these changed 2025 figures after the lock, unaudited --------------


def test_an_override_of_a_locked_year_is_refused(locked: Path) -> None:
    assert _s01_2025(locked) == pytest.approx(S01_2025)
    head = _head(locked)
    factor = ("override", "add", "electricity", "CO2", "0.9", "kgCO2/kWh", "--source", "bill")
    code, _, err = run(*factor, "--year", "2025", "--ledger", str(locked))
    assert code == 1
    _refused(err, 2025)
    assert "it applies to 2025; give it a year that is not locked" in err
    code, _, err = run(*factor, "--ledger", str(locked))  # no year: every year with data
    assert code == 1
    _refused(err, 2025)
    assert _s01_2025(locked) == pytest.approx(S01_2025)  # not 90 tCO2e
    with Ledger.open(locked) as ledger:
        assert ledger.overrides().empty
    assert _entries(locked, head) == []


def test_a_setting_is_refused_once_a_year_with_data_is_locked(locked: Path) -> None:
    head = _head(locked)
    code, _, err = run("setting", "set", "gwp_set", "AR5", "--ledger", str(locked))
    assert code == 1
    _refused(err, 2025)
    assert "a setting applies to every year with data" in err
    assert _s01_2025(locked) == pytest.approx(S01_2025)  # R-32 not at the AR5 677
    with Ledger.open(locked) as ledger:
        assert ledger.get_setting("gwp_set") == "AR6"
    # the same value again changes nothing: not refused, not written, not audited
    assert run("setting", "set", "gwp_set", "AR6", "--ledger", str(locked))[0] == 0
    assert _entries(locked, head) == []


def test_an_entity_import_changing_shares_of_a_locked_year_is_refused(
    locked: Path, tmp_path: Path
) -> None:
    head = _head(locked)
    control = _entities_csv(tmp_path, S01={"operational_control": "false"})
    code, _, err = run("entities", "import", str(control), "--ledger", str(locked))
    assert code == 1
    _refused(err, 2025)
    assert "entities S01 refused" in err
    assert _s01_2025(locked) == pytest.approx(S01_2025)  # S01 still consolidated
    share = _entities_csv(tmp_path, S05={"equity_share": "0.5"})  # S05 has 2020-2024 data
    code, _, err = run("entities", "import", str(share), "--ledger", str(locked))
    assert code == 1
    _refused(err, 2025)
    with Ledger.open(locked) as ledger:
        assert ledger.organisation().get("S01").operational_control
        assert ledger.organisation().get("S05").equity_share == 0.8
    assert _entries(locked, head) == []


def test_parameters_context_and_base_year_changes_of_a_locked_year_are_refused(
    locked: Path,
) -> None:
    head = _head(locked)
    ledger = str(locked)
    refused = {
        ("parameter", "set", "density.gasoline", "0.74", "kg/L", "--source", "x"): (
            "it applies to every year with data"
        ),
        (
            "parameter",
            "set",
            "fx.CNY_per_USD",
            "7.2",
            "CNY/USD",
            "--source",
            "x",
            "--year",
            "2025",
        ): ("it applies to 2025"),
        ("context", "set", "S01", "2025", "revenue", "1", "亿元", "--source", "x"): (
            "it applies to 2025"
        ),
        ("baseyear", "add-change", "M25", "2025", "methodology", "new factors"): "it names 2025",
    }
    for args, why in refused.items():
        code, _, err = run(*args, "--ledger", ledger)
        assert code == 1, args
        _refused(err, 2025)
        assert why in err, (args, err)
    with Ledger.open(locked) as opened:
        assert opened.parameters()["value"].tolist() == [0.73]
        assert 2025 not in set(opened.context_frame()["year"])
        assert [c.change_id for c in opened.structural_changes()] == ["ACQ-2024"]
    assert _entries(locked, head) == []


# -- changes of years that are not locked: written, each with its audit entry ----------------


def test_changes_of_open_years_are_written_with_their_audit_entry(locked: Path) -> None:
    head = _head(locked)
    ledger = str(locked)
    s2l_2024 = 45074.37 * 0.5366
    assert _value(locked, "ghg:2024:S2L") == pytest.approx(s2l_2024, rel=1e-9)
    commands = [
        ("override", "add", "electricity", "CO2", "0.6", "kgCO2/kWh", "--year", "2024"),
        ("--source", "supplier statement", "--actor", "li.wei"),
        ("parameter", "set", "fx.CNY_per_USD", "7.1884", "CNY/USD", "--year", "2024"),
        ("--source", "PBoC", "--actor", "li.wei"),
        ("context", "set", "G00", "2024", "revenue", "320", "亿元", "--source", "annual report"),
        ("--actor", "li.wei"),
        ("baseyear", "add-change", "M1", "2023", "methodology", "new factor", "--impact", "100"),
        ("--actor", "li.wei"),
    ]
    for command, options in zip(commands[::2], commands[1::2], strict=True):
        code, out, err = run(*command, *options, "--ledger", ledger)
        assert code == 0, (command, out, err)
    assert _value(locked, "ghg:2024:S2L") == pytest.approx(45074.37 * 0.6, rel=1e-9)
    assert _s01_2025(locked) == pytest.approx(S01_2025)
    entries = _entries(locked, head)
    assert {e["actor"] for e in entries} == {"li.wei"}
    override = entries[0]
    assert (override["action"], override["object_type"], override["before"]) == (
        "add",
        "factor_override",
        None,
    )
    assert override["after"] == {
        "activity_type": "electricity",
        "region": None,
        "year": 2024,
        "gas": "CO2",
        "value": 0.6,
        "unit": "kgCO2/kWh",
        "source": "supplier statement",
        "entered_by": "li.wei",
    }
    assert [(e["action"], e["object_type"], e["object_id"], e["before"]) for e in entries[1:]] == [
        ("set", "parameter", "fx.CNY_per_USD@2024", None),
        ("set", "context_metric", "G00/2024/revenue", _demo_revenue()),
        ("set", "structural_change", "M1", None),
    ]
    assert entries[1]["after"] == {
        "name": "fx.CNY_per_USD",
        "year": 2024,
        "value": 7.1884,
        "unit": "CNY/USD",
        "source": "PBoC",
    }
    assert entries[2]["entity_id"] == "G00"
    assert entries[2]["after"] == {"value": 320.0, "unit": "亿元", "source": "annual report"}
    assert entries[3]["after"] == {
        "change_id": "M1",
        "year": 2023,
        "kind": "methodology",
        "description": "new factor",
        "entity_id": None,
        "base_year_impact_tco2e": 100.0,
    }


def _demo_revenue() -> dict[str, Any]:
    lines = (DEMO_DATA / "context.csv").read_text(encoding="utf-8").splitlines()
    first = next(line for line in lines if line.startswith("G00,2024,revenue,"))
    source = first.split(",", 5)[5].strip('"')
    return {"value": 313.16, "unit": "亿元", "source": source}


def test_a_setting_change_is_audited_with_its_value_before_and_after(unlocked: Path) -> None:
    head = _head(unlocked)
    assert run("setting", "set", "gwp_set", "AR5", "--ledger", str(unlocked))[0] == 0
    assert _s01_2025(unlocked)["S1"] == pytest.approx(6.77)  # R-32 at the AR5 GWP 677
    assert _entries(unlocked, head) == [
        {
            "actor": "cli",
            "action": "set",
            "object_type": "setting",
            "object_id": "gwp_set",
            "entity_id": None,
            "before": {"value": "AR6"},
            "after": {"value": "AR5"},
        }
    ]
    code, _, err = run("setting", "set", "base_year", "twenty", "--ledger", str(unlocked))
    assert code == 2 and "base_year must be a year" in err
    assert len(_entries(unlocked, head)) == 1


def test_entities_are_audited_one_by_one_and_a_rename_or_a_new_entity_passes_a_lock(
    locked: Path, tmp_path: Path
) -> None:
    head = _head(locked)
    tree = _entities_csv(
        tmp_path,
        S01={"name": "Subsidiary 01 (renamed)"},
        S02={},  # as stored: nothing written
        S99={"name": "New site", "parent_id": "S01", "kind": "site", "equity_share": "1"}
        | {"operational_control": "true", "financial_control": "true", "region": "CN-SH"},
    )
    code, out, err = run("entities", "import", str(tree), "--ledger", str(locked))
    assert code == 0, (out, err)
    entries = _entries(locked, head)
    assert [(e["action"], e["object_id"], e["entity_id"]) for e in entries] == [
        ("update", "S01", "S01"),
        ("create", "S99", "S99"),
    ]
    assert "3 entities stored (2 added or changed)" in " ".join(out.split())
    renamed = entries[0]
    assert renamed["before"]["name"] == "Subsidiary 01 (synthetic)"
    assert renamed["after"] == renamed["before"] | {"name": "Subsidiary 01 (renamed)"}
    assert entries[1]["before"] is None and entries[1]["after"]["parent_id"] == "S01"
    assert _s01_2025(locked) == pytest.approx(S01_2025)


# -- the use case itself ----------------------------------------------------------------------


def _user(role: Role, scope: set[str] | None) -> Principal:
    return Principal(
        user_id=7,
        username=f"{role.value}.user",
        display_name="someone",
        role=role,
        locale="en",
        must_change_password=False,
        grants=frozenset(scope or ()),
        scope=None if scope is None else frozenset(scope),
    )


def test_the_caller_needs_edit_and_the_whole_group_for_group_inputs(unlocked: Path) -> None:
    owner, viewer = _user(Role.OWNER, {"S01"}), _user(Role.VIEWER, None)
    with Ledger.open(unlocked) as ledger:
        engine = ledger.engine
        head = _head(unlocked)
        calls: list[Callable[[Principal], object]] = [
            lambda who: reference.set_setting(engine, who, "gwp_set", "AR5"),
            lambda who: reference.set_parameter(engine, who, "fx.X", 2024, 1.0, "1", "x"),
            lambda who: reference.add_override(
                engine, who, "electricity", "CO2", 0.5, "kgCO2/kWh", "x", year=2024
            ),
        ]
        for call in calls:
            for who in (owner, viewer):
                with pytest.raises(Forbidden):
                    call(who)
        with pytest.raises(NotFound):
            reference.set_context(engine, owner, "S02", 2024, "revenue", 1.0, "亿元", "x")
        done = reference.set_context(engine, owner, "S01", 2024, "revenue", 2.0, "亿元", "x")
        assert (done.object_id, done.years, done.before) == ("S01/2024/revenue", (2024,), None)
        assert ledger.get_setting("gwp_set") == "AR6"
    assert [(e["actor"], e["object_id"]) for e in _entries(unlocked, head)] == [
        ("owner.user", "S01/2024/revenue")
    ]


def test_the_change_and_its_audit_entry_commit_together(
    unlocked: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> int:
        raise RuntimeError("the audit log is unavailable")

    monkeypatch.setattr(audit, "append", broken)  # the log the use case writes to
    with Ledger.open(unlocked) as ledger:
        with pytest.raises(RuntimeError):
            reference.set_setting(ledger.engine, operator("cli"), "gwp_set", "AR5")
        with pytest.raises(RuntimeError):
            reference.add_override(
                ledger.engine, operator("cli"), "electricity", "CO2", 0.9, "kgCO2/kWh", "x"
            )
        assert ledger.get_setting("gwp_set") == "AR6"
        assert ledger.overrides().empty


def test_no_command_or_route_writes_reference_data_around_the_use_case() -> None:
    writes = re.compile(
        r"(?<!reference)\.(set_setting|delete_setting|set_parameter|add_override|set_context|"
        r"upsert_entities|add_structural_change|write_setting|write_parameter|insert_override|"
        r"write_context|write_change|write_entities)\("
    )
    found = [
        f"{path.relative_to(SRC)}: {match.group(0)}"
        for folder in ("cli", "web")
        for path in sorted((SRC / folder).rglob("*.py"))
        for match in writes.finditer(path.read_text(encoding="utf-8"))
    ]
    assert found == []


def test_an_override_names_a_known_gas_and_region_or_is_refused(unlocked: Path) -> None:
    """Issue 16: a gas typo (C02) was stored and counted 0; --region HK was stored and never
    matched the CN-HK records. Now both are refused, nothing is written, and a region's name
    is stored as the code the records carry."""
    head = _head(unlocked)
    factor = ("override", "add", "electricity")
    code, _, err = run(*factor, "C02", "0.9", "kgCO2/kWh", "--source", "x", "-l", str(unlocked))
    assert code == 2 and "unknown gas 'C02'" in err and "CO2" in err
    code, _, err = run(
        *factor, "CO2", "0.7", "kgCO2/kWh", "--source", "x", "--region", "HK", "-l", str(unlocked)
    )
    assert code == 2 and "unknown region 'HK'" in err
    with Ledger.open(unlocked) as ledger:
        assert ledger.overrides().empty
    assert _entries(unlocked, head) == []
    code, _, err = run(
        *factor, "CO2", "0.7", "kgCO2/kWh", "--source", "CLP 2025", "--region", "香港",
        "--year", "2025", "-l", str(unlocked),
    )  # fmt: skip
    assert code == 0, err
    with Ledger.open(unlocked) as ledger:
        assert ledger.overrides()["region"].tolist() == ["CN-HK"]


def test_a_revenue_in_another_currency_is_refused_where_it_is_entered(unlocked: Path) -> None:
    """Issue 16: revenue in HKD was accepted and later crashed kpi, intensity and report gaps
    with a traceback; an unknown entity printed a raw IntegrityError."""
    head = _head(unlocked)
    code, _, err = run("context", "set", "G00", "2025", "revenue", "100", "HKD", "--source",
                       "annual report", "-l", str(unlocked))  # fmt: skip
    assert code == 2 and "context revenue: unit 'HKD' is not Chinese yuan" in err
    code, _, err = run("context", "set", "NOPE", "2025", "revenue", "1", "亿元", "--source",
                       "x", "-l", str(unlocked))  # fmt: skip
    assert code == 1 and "unknown entity 'NOPE'" in err and "IntegrityError" not in err
    assert _entries(unlocked, head) == []
    code, _, err = run("context", "set", "G00", "2025", "revenue", "2.5", "亿元", "--source",
                       "annual report", "-l", str(unlocked))  # fmt: skip
    assert code == 0, err
    code, _, err = run("intensity", "-l", str(unlocked))
    assert "Traceback" not in err


def test_a_fuel_density_outside_its_standard_is_refused(unlocked: Path) -> None:
    """Issue 16 (d): density.gasoline 740 kg/L (meant kg/m3) was accepted and only the report
    appendix noticed. GB 17930 gasoline: 0.720-0.775 kg/L (densities.csv)."""
    head = _head(unlocked)
    code, _, err = run("parameter", "set", "density.gasoline", "740", "kg/L", "--source", "x",
                       "--year", "2025", "-l", str(unlocked))  # fmt: skip
    assert code == 2 and "740 kg/L, outside the fuel standard's range 0.72-0.775 kg/L" in err
    assert _entries(unlocked, head) == []
    code, _, err = run("parameter", "set", "density.gasoline", "740", "kg/m3", "--source",
                       "supplier", "--year", "2025", "-l", str(unlocked))  # fmt: skip
    assert code == 0, err  # 740 kg/m3 = 0.740 kg/L
    with Ledger.open(unlocked) as ledger:
        found = ledger.parameters()
    mine = found[(found["name"] == "density.gasoline") & (found["year"] == 2025)]
    assert mine[["value", "unit"]].values.tolist() == [[740.0, "kg/m3"]]  # kept as entered
