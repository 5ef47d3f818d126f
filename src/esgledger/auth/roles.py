"""Roles and what they may do (``auth/data/roles.csv``): data, so a group can read its own
access rules; the server checks them on every route (``web.access``)."""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from importlib import resources
from types import MappingProxyType

from esgledger.domain.datafile import read_rows


class Role(StrEnum):
    ADMIN = "admin"
    REVIEWER = "reviewer"
    OWNER = "owner"
    APPROVER = "approver"
    VERIFIER = "verifier"
    VIEWER = "viewer"


class Permission(StrEnum):
    VIEW = "view"
    EDIT = "edit"
    COMMENT = "comment"
    REVIEW = "review"
    MANAGE_CAMPAIGNS = "manage_campaigns"
    LOCK = "lock"
    PROPOSE_ADJUSTMENT = "propose_adjustment"
    DECIDE_ADJUSTMENT = "decide_adjustment"
    LINEAGE = "lineage"
    AUDIT_READ = "audit_read"
    MANAGE_USERS = "manage_users"
    EXPORT = "export"
    EDIT_REPORT = "edit_report"


#: Roles whose scope is the whole group whatever their grants.
GROUP_WIDE = frozenset({Role.ADMIN})


@lru_cache(maxsize=1)
def permissions() -> MappingProxyType[Role, frozenset[Permission]]:
    """Role -> permissions, from the packaged CSV (unknown names are an error)."""
    source = resources.files("esgledger.auth") / "data" / "roles.csv"
    text = source.read_text(encoding="utf-8")
    rows, problems = read_rows(text, "roles.csv", ("role", "permission"), "column", "fields")
    if problems:
        raise ValueError("; ".join(str(p) for p in problems))
    table: dict[Role, set[Permission]] = {r: set() for r in Role}
    for line, row in rows:
        try:
            table[Role(row["role"])].add(Permission(row["permission"]))
        except ValueError as exc:
            raise ValueError(f"roles.csv:{line}: {exc}") from exc
    return MappingProxyType({r: frozenset(p) for r, p in table.items()})


def allowed(role: Role | str, permission: Permission) -> bool:
    return permission in permissions()[Role(role)]
