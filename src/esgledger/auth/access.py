"""The permission check every use case makes itself, whatever door (web, CLI) it is called
through; the entity scope is checked with :meth:`Principal.sees` on the rows read."""

from __future__ import annotations

from esgledger.auth.accounts import Principal
from esgledger.auth.roles import Permission
from esgledger.domain.errors import Forbidden
from esgledger.store.engine import LedgerConnection, LedgerEngine, entity_ids


def require(who: Principal, permission: Permission) -> None:
    """Refuse (:class:`Forbidden`) unless ``who``'s role has ``permission``."""
    if not who.can(permission):
        raise Forbidden(f"the {who.role.value} role may not {permission.value.replace('_', ' ')}")


def is_group_wide(bind: LedgerEngine | LedgerConnection, who: Principal) -> bool:
    """Whether ``who`` sees every entity of the ledger: the one rule for group-level material
    (group figures, the report, the strategy, the survey, the audit log's group entries)."""
    return who.scope is None or who.sees_all(entity_ids(bind))


def require_group_wide(bind: LedgerEngine | LedgerConnection, who: Principal, what: str) -> None:
    """Refuse (:class:`Forbidden`) unless ``who`` sees the whole group; ``what`` names the
    group-level material in the message."""
    if not is_group_wide(bind, who):
        raise Forbidden(f"{what} covers the whole group: only a group-wide user may see it")
