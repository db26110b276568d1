"""`encode_words` gives eth_abi's bytes for every value, and eth_abi's error for every value it refuses."""

import pytest
from eth_abi import encode
from hypothesis import given
from hypothesis import strategies as st

from fedstake.chain.abi_words import encode_words

TYPES = ("uint256", "int256", "address", "bytes32")
addresses = st.tuples(st.binary(min_size=20, max_size=20), st.integers(min_value=0, max_value=2**40 - 1)).map(
    lambda pair: "0x" + "".join(c.upper() if pair[1] >> i & 1 else c for i, c in enumerate(pair[0].hex())))
VALUES = {
    "uint256": st.integers(min_value=0, max_value=2**256 - 1),
    "int256": st.integers(min_value=-(2**255), max_value=2**255 - 1),
    "address": addresses,
    "bytes32": st.binary(max_size=32),
}
row = st.lists(st.sampled_from(TYPES), min_size=1, max_size=8).flatmap(
    lambda types: st.tuples(st.just(types), st.tuples(*(VALUES[t] for t in types))))


@given(row)
def test_the_words_are_eth_abis_bytes(typed):
    types, values = typed
    assert encode_words(types, values) == encode(list(types), list(values))


@given(st.sampled_from(["uint256", "int256", "address", "bytes32"]), st.one_of(
    st.integers(min_value=2**256), st.integers(max_value=-(2**255) - 1), st.booleans(), st.binary(min_size=33),
    st.text(max_size=5), st.none()))
def test_a_value_eth_abi_refuses_is_refused_alike(abi_type, value):
    try:
        expected = encode([abi_type], [value])
    except Exception as exc:
        with pytest.raises(type(exc)):
            encode_words([abi_type], [value])
    else:  # what eth_abi takes (a bool as an int, say) it encodes, and so does the fast path
        assert encode_words([abi_type], [value]) == expected


def test_an_address_of_the_wrong_length_or_digits_is_refused_as_eth_abi_refuses_it():
    for bad in ("0x" + "ab" * 19, "0x" + "ab" * 19 + " a", "0x" + "zz" * 20, "ab" * 21):
        with pytest.raises(type(_error(bad))):
            encode_words(["address"], [bad])


def test_types_of_more_than_one_word_go_to_eth_abi():
    assert encode_words(["uint256", "address[]"], [3, []]) == encode(["uint256", "address[]"], [3, []])
    assert encode_words(["uint8", "bool"], [7, True]) == encode(["uint8", "bool"], [7, True])


def _error(address):
    try:
        encode(["address"], [address])
    except Exception as exc:
        return exc
    raise AssertionError(f"eth_abi took {address}")
