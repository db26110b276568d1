# pragma version ~=0.4.3
# pragma nonreentrancy off
"""
@title checks
@custom:contract-name checks
@license MIT
@notice One revert path for the checks off the hot paths. Every
        `assert cond, "reason"` compiles its own ABI encoding of the
        reason (about 70 bytes of code each); routing the rarely taken
        ones through `_need` shares that encoding, which keeps TaskMarket
        under EIP-170's 24,576-byte limit. The claim, propose, attest and
        finalize paths keep plain asserts: there the extra jump would be
        paid on every call.
"""


@internal
@pure
def _need(ok: bool, reason: String[48]):
    if not ok:
        raise reason
