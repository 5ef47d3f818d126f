"""The permission check every use case makes itself, whatever door (web, CLI) it is called
through; the entity scope is checked with :meth:`Principal.sees` on the rows read."""

from __future__ import annotations

from esgledger.auth.accounts import Principal
from esgledger.auth.roles import Permission
from esgledger.domain.errors import Forbidden


def require(who: Principal, permission: Permission) -> None:
    """Refuse (:class:`Forbidden`) unless ``who``'s role has ``permission``."""
    if not who.can(permission):
        raise Forbidden(f"the {who.role.value} role may not {permission.value.replace('_', ' ')}")
