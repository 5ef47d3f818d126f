"""`--ledger` takes an SQLite file or a database URL; backup and restore commands.

The PostgreSQL cases run when ``ESGLEDGER_TEST_PG_URL`` is set (tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from esgledger.cli import app
from esgledger.cli.app import ledger_target, shown
from esgledger.store.ledger import Ledger

runner = CliRunner()

ENTITIES_CSV = (
    "entity_id,name,parent_id,kind,equity_share,operational_control,financial_control,region\n"
    "G,Group,,group,1,true,true,CN-BJ\n"
    "S1,Sub One,G,subsidiary,0.6,true,false,CN-SH\n"
)
ACTIVITY_CSV = (
    "record_id,entity_id,period,activity_type,quantity,unit,region,data_quality\n"
    'r1,S1,2024-01,electricity,"1,234.5",kWh,,measured\n'
    "r2,G,2024-02,diesel_stationary,1.5,t,,measured\n"
)


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env=env, terminal_width=200)
    return result.exit_code, result.stdout, result.stderr


def _files(tmp_path: Path) -> tuple[Path, Path]:
    tree, activity = tmp_path / "org.csv", tmp_path / "activity.csv"
    tree.write_text(ENTITIES_CSV, encoding="utf-8")
    activity.write_text(ACTIVITY_CSV, encoding="utf-8")
    return tree, activity


def test_init_and_import_on_every_store(store_url: str, tmp_path: Path) -> None:
    tree, activity = _files(tmp_path)
    code, out, err = run("init", "--ledger", store_url, "--entities", str(tree))
    assert code == 0, err
    assert "2 entities" in out
    code, out, err = run("import", str(activity), "--ledger", store_url, "--user", "ann")
    assert code == 0, err
    assert "imported 2 activity rows as batch 1" in out
    code, out, _ = run("import", str(activity), "--ledger", store_url)
    assert code == 0 and "already imported (batch 1)" in out
    code, out, err = run("energy", "--ledger", store_url, "--year", "2024")
    assert code == 0, err
    with Ledger.open(store_url) as ledger:
        frame = ledger.activity_frame()
    assert frame["quantity"].tolist() == [1234.5, 1.5]
    assert ledger.batches()["imported_by"].tolist() == ["ann"]


def test_a_url_from_the_environment_and_the_plain_postgresql_scheme(pg_url: str) -> None:
    plain = pg_url.replace("postgresql+psycopg://", "postgresql://", 1)
    assert ledger_target(plain) == pg_url
    assert ledger_target(plain.replace("postgresql://", "postgres://", 1)) == pg_url
    code, out, err = run("init", env={"ESGLEDGER_DB": plain})
    assert code == 0, err
    assert "ledger ready: postgresql" in out and "0 entities" in out
    code, _, err = run("entities", "list", env={"ESGLEDGER_DB": pg_url})
    assert code == 0, err


def test_paths_stay_paths_and_bad_urls_are_usage_errors(tmp_path: Path) -> None:
    assert ledger_target("dir/ledger.db") == Path("dir/ledger.db")
    assert ledger_target("sqlite:///x.db") == "sqlite:///x.db"
    assert shown("postgresql+psycopg://ann:secret@db.example/esg") == (
        "postgresql+psycopg://ann:***@db.example/esg"
    )
    code, _, err = run("inventory", "--ledger", str(tmp_path / "missing.db"))
    assert code == 2 and "no ledger here" in err and "esgledger init" in err
    assert not (tmp_path / "missing.db").exists()
    code, _, err = run("inventory", "--ledger", "nosuchdb://x/y")
    assert code == 2 and "nosuchdb" in err


def test_backup_and_restore_commands(
    store_url: str, demo_ledger_path: Path, tmp_path: Path
) -> None:
    file = tmp_path / "backups" / "demo.db"
    code, out, err = run("backup", str(file), "--ledger", str(demo_ledger_path))
    assert code == 0, err
    assert "activity_record" in out and "276" in out and "verified" in out
    code, _, err = run("backup", str(file), "--ledger", str(demo_ledger_path))
    assert code == 1 and "never overwrites" in err
    code, _, err = run("backup", str(tmp_path / "b.db"), "--ledger", str(tmp_path / "none.db"))
    assert code == 1 and "no ledger here" in err

    code, out, err = run("restore", str(file), "--ledger", store_url)
    assert code == 0, err
    assert "metric_value" in out and "66" in out and "verified" in out
    code, _, err = run("restore", str(file), "--ledger", store_url)
    assert code == 1 and "not empty" in err and "--force" in err
    code, out, err = run("restore", str(file), "--ledger", store_url, "--force")
    assert code == 0, err
    assert "replaced" in out

    again = tmp_path / "again.db"
    code, out, err = run("backup", str(again), "--ledger", store_url)
    assert code == 0, err
    code, _, err = run("restore", str(tmp_path / "nothing.db"), "--ledger", store_url)
    assert code == 1 and "no such backup file" in err
    code, out, _ = run("kpi", "--year", "2024", "--ledger", store_url)
    assert code in (0, 1) and "2024" in out
