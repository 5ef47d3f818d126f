"""Every download is in the audit log (issue 15, scope 2): campaign CSV and XLSX, register CSV,
request templates and evidence files, each recorded as an ``export`` with its object, format,
row count, size and the SHA-256 of the bytes sent; a refused download records nothing."""

from __future__ import annotations

import ast
import csv
import hashlib
import io
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from typer.testing import CliRunner

from esgledger import audit, report
from esgledger.cli import app
from esgledger.store.ledger import Ledger

Client = Callable[[str], TestClient]
ROUTES = Path(__file__).resolve().parents[2] / "src" / "esgledger" / "web" / "routes"
METRICS = ["energy.electricity_purchased", "safety.fatalities"]
PDF = b"%PDF-1.7\n% electricity bill\n"


def _exports(ledger: Ledger) -> list[dict[str, Any]]:
    """The ``export`` entries, oldest first (``after`` parsed)."""
    found = [e for e in audit.entries(ledger.engine, limit=500) if e["action"] == "export"]
    out = []
    for e in sorted(found, key=lambda e: int(e["seq"])):
        after = e["after"]
        out.append(
            {
                "actor": e["actor"],
                "object_type": e["object_type"],
                "object_id": e["object_id"],
                "entity_id": e["entity_id"],
                "after": json.loads(after) if isinstance(after, str) else after,
            }
        )
    return out


def _sent(content: bytes) -> dict[str, Any]:
    return {"bytes": len(content), "sha256": hashlib.sha256(content).hexdigest()}


def _campaign(client_for: Client) -> tuple[int, int]:
    """A 2025 campaign for S01 and S02 with S01's electricity entered; (campaign, S01 request)."""
    reviewer = client_for("reviewer")
    created = reviewer.post(
        "/api/campaigns",
        json={
            "name": "FY2025 data",
            "year": 2025,
            "due_date": "2026-03-31",
            "metric_ids": METRICS,
            "entity_ids": ["S01", "S02"],
        },
    )
    assert created.status_code == 201, created.text
    campaign_id = int(created.json()["campaign_id"])
    requests = reviewer.get(f"/api/campaigns/{campaign_id}").json()["requests"]
    request_id = next(int(r["request_id"]) for r in requests if r["entity_id"] == "S01")
    entered = client_for("owner").put(
        f"/api/requests/{request_id}/values/{METRICS[0]}",
        json={"value_text": "1234.5", "base_version": 0},
    )
    assert entered.status_code == 200, entered.text
    return campaign_id, request_id


def test_campaign_exports_are_audited_with_the_rows_and_hash_sent(
    client_for: Client, web_ledger: Ledger
) -> None:
    campaign_id, _ = _campaign(client_for)
    exported = client_for("owner").get(f"/api/campaigns/{campaign_id}/export.csv?lang=en")
    assert exported.status_code == 200
    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert [(r["entity_id"], r["metric_id"]) for r in rows] == [("S01", m) for m in METRICS]
    book = client_for("reviewer").get(f"/api/campaigns/{campaign_id}/export.xlsx?lang=zh")
    assert book.status_code == 200
    sheet = load_workbook(io.BytesIO(book.content))["values"]
    assert sheet.max_row - 1 == 4  # both requests, two metrics each
    assert _exports(web_ledger) == [
        {
            "actor": "owner",
            "object_type": "campaign",
            "object_id": str(campaign_id),
            "entity_id": None,
            "after": {"format": "csv", "rows": 2, "lang": "en", "entities": ["S01"]}
            | _sent(exported.content),
        },
        {
            "actor": "reviewer",
            "object_type": "campaign",
            "object_id": str(campaign_id),
            "entity_id": None,
            "after": {"format": "xlsx", "rows": 4, "lang": "zh", "entities": ["S01", "S02"]}
            | _sent(book.content),
        },
    ]


def test_the_register_csv_is_audited(client_for: Client, web_ledger: Ledger) -> None:
    exported = client_for("owner").get("/registers/bcm.csv", params={"year": 2024})
    assert exported.status_code == 200
    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert rows and {r["entity_id"] for r in rows} == {"S01"}  # the owner's entity only
    assert _exports(web_ledger) == [
        {
            "actor": "owner",
            "object_type": "register",
            "object_id": "bcm/2024",
            "entity_id": None,
            "after": {"format": "csv", "rows": len(rows)} | _sent(exported.content),
        }
    ]


def test_request_templates_and_evidence_downloads_are_audited(
    client_for: Client, web_ledger: Ledger
) -> None:
    _, request_id = _campaign(client_for)
    owner = client_for("owner")
    template = owner.get(f"/api/requests/{request_id}/template.xlsx?lang=en")
    assert template.status_code == 200
    added = owner.post(
        f"/api/requests/{request_id}/evidence", files={"file": ("电费单 2025.pdf", PDF)}
    )
    assert added.status_code == 201, added.text
    evidence_id = added.json()["evidence_id"]
    download = owner.get(f"/api/evidence/{evidence_id}")
    assert download.status_code == 200 and download.content == PDF
    assert _exports(web_ledger) == [
        {
            "actor": "owner",
            "object_type": "request_template",
            "object_id": str(request_id),
            "entity_id": "S01",
            "after": {"format": "xlsx", "rows": len(METRICS), "year": 2025, "lang": "en"}
            | _sent(template.content),
        },
        {
            "actor": "owner",
            "object_type": "evidence",
            "object_id": str(evidence_id),
            "entity_id": "S01",
            "after": {
                "format": "pdf",
                "rows": None,
                "request_id": request_id,
                "file": "电费单 2025.pdf",
            }
            | _sent(PDF),
        },
    ]


def test_a_refused_download_records_nothing(client_for: Client, web_ledger: Ledger) -> None:
    campaign_id, request_id = _campaign(client_for)
    evidence_id = (
        client_for("owner")
        .post(f"/api/requests/{request_id}/evidence", files={"file": ("bill.pdf", PDF)})
        .json()["evidence_id"]
    )
    assert client_for("viewer").get(f"/api/campaigns/{campaign_id}/export.csv").status_code == 403
    assert client_for("owner2").get(f"/api/evidence/{evidence_id}").status_code == 404
    assert client_for("owner2").get(f"/api/requests/{request_id}/template.xlsx").status_code == 404
    assert client_for("viewer").get("/registers/bcm.csv").status_code == 403
    assert _exports(web_ledger) == []


def _downloads_without_audit(path: Path) -> list[str]:
    """Functions of a route module that hand out a file (``attachment(...)`` or a
    Content-Disposition header) without writing an audit entry."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    missing = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef) or node.name == "attachment":
            continue
        text = ast.unparse(node)
        hands_out = "attachment(" in text or "Content-Disposition" in text
        audited = "record_export(" in text or "audit.append(" in text
        if hands_out and not audited:
            missing.append(f"{path.name}:{node.lineno} {node.name}")
    return missing


def test_every_download_route_writes_an_audit_entry() -> None:
    missing = [m for path in sorted(ROUTES.glob("*.py")) for m in _downloads_without_audit(path)]
    assert missing == []


# -- the command line's files -----------------------------------------------------------------


def test_files_the_command_line_writes_are_audited(demo_ledger_path: Path, tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    shutil.copy(demo_ledger_path, path)
    kpi = tmp_path / "kpi.xlsx"
    ledger_option = ["--ledger", str(path)]
    wrote = CliRunner().invoke(app, ["kpi", "--year", "2024", "--xlsx", str(kpi), *ledger_option])
    assert kpi.exists(), wrote.output
    build = ["report", "build", "--year", "2024", "--lang", "en", "--format", "xlsx"]
    built = CliRunner().invoke(app, [*build, "--out", str(tmp_path), *ledger_option])
    assert built.exit_code == 0, built.output
    workbook = (tmp_path / report.file_name(2024, "en", "xlsx")).read_bytes()
    rows = load_workbook(kpi)["KPI 2024"].max_row - 1
    assert rows > 50
    with Ledger.open(path) as ledger:
        exports = _exports(ledger)
    assert [(e["actor"], e["object_type"], e["object_id"], e["entity_id"]) for e in exports] == [
        ("cli", "kpi", "2024", None),
        ("cli", "report", "2024/en.xlsx", None),
    ]
    assert exports[0]["after"] == {"format": "xlsx", "rows": rows} | _sent(kpi.read_bytes())
    meta = {k: exports[1]["after"][k] for k in ("data_version", "built_at")}
    assert meta["data_version"] and meta["built_at"]
    assert exports[1]["after"] == {"format": "xlsx", "rows": None} | meta | _sent(workbook)
