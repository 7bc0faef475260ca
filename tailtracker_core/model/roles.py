"""Roles in a family and the action matrix of the domain page."""

from __future__ import annotations

import enum

__all__ = ["Action", "Role", "allowed"]


class Role(enum.StrEnum):
    OWNER = "owner"
    MEMBER = "member"
    VIEWER = "viewer"


class Action(enum.StrEnum):
    READ = "read"  # family, pets, care, medical records, files
    EDIT = "edit"  # create/edit pets and their records; report lost
    COMPLETE_TASK = "complete_task"
    MANAGE = "manage"  # delete a pet, invite/remove members, change roles, rename/delete family


_MATRIX: dict[Role, frozenset[Action]] = {
    Role.OWNER: frozenset(Action),
    Role.MEMBER: frozenset({Action.READ, Action.EDIT, Action.COMPLETE_TASK}),
    Role.VIEWER: frozenset({Action.READ}),
}


def allowed(role: Role, action: Action) -> bool:
    return action in _MATRIX[role]
