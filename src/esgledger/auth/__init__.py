"""Users, roles, sessions and API tokens (see :mod:`esgledger.auth.accounts`)."""

from esgledger.auth.accounts import AccountError, Principal, RateLimitedError
from esgledger.auth.roles import Permission, Role

__all__ = ["AccountError", "Permission", "Principal", "RateLimitedError", "Role"]
