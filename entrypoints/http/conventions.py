"""The list, field-selection and versioning conventions every resource shares.

- Cursors are the unpadded base64url of the last item's 16-byte id: opaque to clients,
  stable across deploys, and keyset-friendly (ids are UUIDv7, so id order is time order).
- `?fields=a,b` trims a representation; an unknown name is a 422 naming `fields`.
- ETags are the entity's version as a strong tag (`"3"`): cheap, exact, and what `If-Match`
  hands back to the use case as `expected_version`.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar
from uuid import UUID

import msgspec
from litestar import Request, Response

from tailtracker_core.errors import PreconditionFailed, ValidationFailed

__all__ = [
    "decode_cursor",
    "encode_cursor",
    "expected_version",
    "page_of",
    "page_response",
    "paginate",
    "represent",
    "select_fields",
]

T = TypeVar("T")
S = TypeVar("S", bound=msgspec.Struct)
P = TypeVar("P", bound=msgspec.Struct)


def encode_cursor(last_id: UUID) -> str:
    return base64.urlsafe_b64encode(last_id.bytes).rstrip(b"=").decode()


def decode_cursor(cursor: str | None) -> UUID | None:
    if cursor is None or cursor == "":
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        if len(raw) != 16 or encode_cursor(UUID(bytes=raw)) != cursor:
            raise ValueError(cursor)
        return UUID(bytes=raw)
    except (ValueError, binascii.Error):
        raise ValidationFailed.single(
            "cursor", "not a cursor this API gave out; start from the first page"
        ) from None


def paginate(
    fetch: Callable[[UUID | None, int], Sequence[T]], cursor: str | None, limit: int, key: Callable[[T], UUID]
) -> tuple[list[T], str | None]:
    """Ask for one more than the page to learn whether a next page exists."""
    rows = list(fetch(decode_cursor(cursor), limit + 1))
    page, more = rows[:limit], len(rows) > limit
    return page, encode_cursor(key(page[-1])) if more and page else None


async def paginate_async(
    fetch: Callable[[UUID | None, int], Awaitable[Sequence[T]]],
    cursor: str | None,
    limit: int,
    key: Callable[[T], UUID],
) -> tuple[list[T], str | None]:
    """`paginate` for an async fetch (the read side)."""
    rows = list(await fetch(decode_cursor(cursor), limit + 1))
    page, more = rows[:limit], len(rows) > limit
    return page, encode_cursor(key(page[-1])) if more and page else None


def page_of(
    rows: Sequence[T], key: Callable[[T], UUID], cursor: str | None, limit: int
) -> tuple[list[T], str | None]:
    """Paginate a short list the use case returns whole (members, consent history)."""
    after = decode_cursor(cursor)

    def fetch(after_id: UUID | None, n: int) -> list[T]:
        start = 0
        if after_id is not None:
            ids = [key(r) for r in rows]
            start = ids.index(after_id) + 1 if after_id in ids else len(rows)
        return list(rows[start : start + n])

    return paginate(fetch, encode_cursor(after) if after else None, limit, key)


def select_fields(item_type: type[msgspec.Struct], fields: str | None) -> tuple[str, ...] | None:
    if fields is None:
        return None
    names = tuple(dict.fromkeys(f.strip() for f in fields.split(",") if f.strip()))
    known = item_type.__struct_fields__
    unknown = [n for n in names if n not in known]
    if unknown or not names:
        raise ValidationFailed.single(
            "fields", f"unknown field {', '.join(unknown) or '(none given)'}; choose from {', '.join(known)}"
        )
    return names


def trim(item: msgspec.Struct, names: tuple[str, ...] | None) -> Any:
    if names is None:
        return item
    return {n: msgspec.to_builtins(getattr(item, n)) for n in names}


def etag_of(version: int) -> str:
    return f'"{version}"'


def expected_version(if_match: str | None) -> int | None:
    """`If-Match: "N"` → N; `*` or absent → no check; anything else can never match → 412."""
    if if_match is None or if_match.strip() == "*":
        return None
    value = if_match.strip()
    if len(value) >= 3 and value[0] == value[-1] == '"' and value[1:-1].isdigit():
        return int(value[1:-1])
    raise PreconditionFailed('If-Match must be the ETag you read, such as "3"')


def _none_match(if_none_match: str | None, etag: str) -> bool:
    if if_none_match is None:
        return False
    tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
    return "*" in tags or etag in tags


def represent(
    request: Request[Any, Any, Any],
    item: S,
    version: int | None,
    fields: str | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response[S]:
    """A single resource: trimmed to `fields`, tagged with its version, 304 when unchanged."""
    names = select_fields(type(item), fields)
    out_headers = dict(headers or {})
    if version is not None:
        tag = etag_of(version)
        out_headers["ETag"] = tag
        if request.method == "GET" and _none_match(request.headers.get("if-none-match"), tag):
            return Response(b"", status_code=304, headers=out_headers)  # type: ignore[arg-type]
    return Response(trim(item, names), status_code=status_code, headers=out_headers)


def page_response(
    page_type: type[P],
    item_type: type[msgspec.Struct],
    items: Sequence[Any],
    cursor: str | None,
    fields: str | None,
) -> P:
    """A page struct ({items, next_cursor}); with `fields`, its items are trimmed mappings."""
    names = select_fields(item_type, fields)
    return page_type(items=[trim(i, names) for i in items], next_cursor=cursor)  # type: ignore[call-arg]
