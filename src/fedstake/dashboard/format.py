"""How amounts, addresses and hashes read on a page (Jinja filters)."""

from __future__ import annotations

TOKEN = 10**18


def tokens(amount: int | None) -> str:
    """Base units as tokens, four decimals, thousands separated (`1,234.5000`); '–' for unknown."""
    if amount is None:
        return "–"
    whole, rest = divmod(abs(amount), TOKEN)
    sign = "-" if amount < 0 else ""
    return f"{sign}{whole:,}.{rest * 10_000 // TOKEN:04d}"


def short(text: str | None) -> str:
    """0x1234…abcd: enough of an address or hash to tell it apart, the whole of it in a title."""
    if not text:
        return "–"
    return text if len(text) <= 14 else f"{text[:6]}…{text[-4:]}"


def number(value: float | int | None, digits: int = 4) -> str:
    if value is None:
        return "–"
    return f"{value:,}" if isinstance(value, int) else f"{value:.{digits}f}"


FILTERS = {"tokens": tokens, "short": short, "number": number}
