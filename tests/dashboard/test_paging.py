"""Server-side sorting and paging: every row on exactly one page, in order, unknowns last."""

import pytest
from hypothesis import given, strategies as st

from fedstake.dashboard.format import short, tokens
from fedstake.dashboard.paging import PAGE_SIZES, page_of
from fedstake.dashboard.views import ParticipantView
from fedstake.errors import ConfigError


def _row(i: int, earned: int | None) -> ParticipantView:
    return ParticipantView(f"0x{i:040x}", "trainer", None, i, None, None, None, earned, 0, 0, 0)


@given(st.lists(st.one_of(st.none(), st.integers(0, 10**24)), max_size=300), st.sampled_from(PAGE_SIZES),
       st.sampled_from(["asc", "desc"]))
def test_the_pages_together_are_every_row_once_sorted_with_unknowns_last(earned, size, order):
    rows = [_row(i, e) for i, e in enumerate(earned)]
    first = page_of(rows, sort="earned", order=order, page=1, size=size)
    shown = [r for n in range(1, first.pages + 1)
             for r in page_of(rows, sort="earned", order=order, page=n, size=size).rows]
    assert sorted(r.address for r in shown) == sorted(r.address for r in rows)
    known = [r.earned for r in shown if r.earned is not None]
    assert known == sorted(known, reverse=order == "desc")
    assert all(r.earned is None for r in shown[len(known):])


@pytest.mark.parametrize(("kwargs", "field"), [({"sort": "wealth"}, "sort"), ({"order": "up"}, "order"),
                                               ({"size": 3}, "size"), ({"page": 0}, "page"), ({"page": 2}, "page")])
def test_a_bad_query_names_its_field(kwargs, field):
    query = {"sort": "earned", "order": "desc", "page": 1, "size": 25} | kwargs
    with pytest.raises(ConfigError) as raised:
        page_of([_row(1, 5)], **query)
    assert raised.value.key == field


def test_amounts_read_in_tokens_and_addresses_shortened():
    assert tokens(1_234_500_000_000_000_000_000) == "1,234.5000"
    assert tokens(-5 * 10**17) == "-0.5000" and tokens(None) == "–" and tokens(1) == "0.0000"
    assert short("0x1A1bdf8D7B7899540110893E6477Eb55fe08e1e3") == "0x1A1b…e1e3" and short(None) == "–"
