"""Account identities per tenant (integrator).

Two integrators may both have an account "u1"; they are different people, so their strikes,
risk and history must never add up. An account of the default tenant "" (every single-tenant
install) keeps its platform id as its key; another tenant's account is keyed
`tenant + SEPARATOR + id`. The separator is the ASCII unit separator, which no platform id
contains (ids with control characters are refused), so no default-tenant id can pose as another
tenant's account.
"""

from __future__ import annotations

from takedown.core.errors import InvalidInput

SEPARATOR = "\x1f"


def account_key(tenant: str | None, account_id: str) -> str:
    """The stored key of `tenant`'s account `account_id` (None: a role that sees every
    tenant, naming the key itself)."""
    if SEPARATOR in account_id and tenant is not None:
        raise InvalidInput("an account id may not contain control characters")
    return account_id if not tenant else f"{tenant}{SEPARATOR}{account_id}"


def split_key(key: str) -> tuple[str, str]:
    """(tenant, platform account id) of a stored key."""
    tenant, sep, account_id = key.partition(SEPARATOR)
    return (tenant, account_id) if sep else ("", key)


def visible_to(tenant: str | None, key: str) -> str | None:
    """How `tenant` names the account stored as `key`: its own id, or None if the account is
    another tenant's. Roles that see every tenant (tenant None) see the key."""
    if tenant is None:
        return key
    owner, account_id = split_key(key)
    return account_id if owner == tenant else None
