"""Authorization as domain policy: the one place that answers "may this user do this"."""

from __future__ import annotations

from tailtracker_core.errors import Forbidden, NotFound
from tailtracker_core.model.roles import Action, Role, allowed

__all__ = ["require"]

_DENIED = {
    Action.EDIT: "viewers can read but not change this family's pets",
    Action.COMPLETE_TASK: "viewers cannot complete care tasks",
    Action.MANAGE: "only an owner of the family may do this",
}


def require(role: Role | None, action: Action, what: str = "resource") -> Role:
    """Pass when `role` may do `action`; outsiders get NotFound (no existence leak)."""
    if role is None:
        raise NotFound(f"{what} not found")
    if not allowed(role, action):
        raise Forbidden(_DENIED.get(action, "not allowed"))
    return role
