"""Server-side sorting and paging of the participants table (fast at thousands of rows)."""

from __future__ import annotations

from dataclasses import dataclass

from fedstake.dashboard.views import ParticipantView
from fedstake.errors import ConfigError

SORT_KEYS = ("address", "role", "stake", "reputation", "selected", "accepted", "earned", "claimed", "slashed",
             "disputes")
PAGE_SIZES = (25, 50, 100, 250)


@dataclass(frozen=True)
class Page:
    rows: list[ParticipantView]
    page: int
    pages: int
    total: int
    sort: str
    order: str
    size: int


def page_of(rows: list[ParticipantView], *, sort: str, order: str, page: int, size: int) -> Page:
    """One page of `rows` sorted by `sort` ("asc" or "desc"); unknown values are a ConfigError naming the field.
    Unknown values (None) sort last either way."""
    if sort not in SORT_KEYS:
        raise ConfigError("sort", f"{sort!r} is not one of {', '.join(SORT_KEYS)}")
    if order not in ("asc", "desc"):
        raise ConfigError("order", f"{order!r} is not asc or desc")
    if size not in PAGE_SIZES:
        raise ConfigError("size", f"{size} is not one of {', '.join(map(str, PAGE_SIZES))}")
    known = [r for r in rows if getattr(r, sort) is not None]
    unknown = [r for r in rows if getattr(r, sort) is None]
    known.sort(key=lambda r: getattr(r, sort), reverse=order == "desc")
    ordered = known + unknown
    pages = max(1, -(-len(ordered) // size))
    if page < 1 or page > pages:
        raise ConfigError("page", f"{page} is out of range (1 to {pages})")
    return Page(ordered[(page - 1) * size:page * size], page, pages, len(ordered), sort, order, size)
