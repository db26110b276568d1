"""Trainers' signed asks: a price per round for a sample count, over a window of rounds.

A trainer signs its ask (EIP-712, under the TaskMarket's domain, naming
the task), publishes it off chain, and from then on the reverse auction of
every round in its window may pick it at that price or better. The
coordinator relays the round's asks with the round's task, so every
validator checks the same signed asks, recomputes the auction and pays
its winners; each ask's leaf (keccak of its struct hash, the form of a
commitment's leaf) joins the round's scores root, which the proposer
posts, so a Merkle proof against the chain shows which asks a round used.

An ask that does not hold (wrong task, outside its window, a signature
that is not the trainer's, nothing offered) is left out with its reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

from eth_utils import keccak

from fedstake.chain.accounts import Account
from fedstake.chain.eip712 import Domain, ask_struct_hash, recover_signer, sign_digest, typed_digest
from fedstake.errors import SignatureError


@dataclass(frozen=True)
class Ask:
    task_id: int
    trainer: str
    price: int  # base units for one round
    samples: int
    first_round: int
    last_round: int

    def struct_hash(self) -> bytes:
        return ask_struct_hash(self.task_id, self.trainer, self.price, self.samples, self.first_round,
                               self.last_round)

    def leaf(self) -> bytes:
        """This ask's leaf in the round's scores root."""
        return keccak(self.struct_hash())

    def digest(self, domain: Domain) -> bytes:
        return typed_digest(domain, self.struct_hash())


@dataclass(frozen=True)
class SignedAsk:
    ask: Ask
    signature: bytes

    @property
    def trainer(self) -> str:
        return self.ask.trainer


def sign_ask(ask: Ask, domain: Domain, account: Account) -> SignedAsk:
    if account.address != ask.trainer:
        raise SignatureError(f"{account.address} cannot sign an ask for trainer {ask.trainer}")
    return SignedAsk(ask, sign_digest(ask.digest(domain), account.private_key))


def ask_problem(signed: SignedAsk, domain: Domain, *, task_id: int, round: int) -> str | None:
    """Why `signed` cannot bid in round `round` of task `task_id`; None when it can."""
    a = signed.ask
    if a.task_id != task_id:
        return f"ask is for task {a.task_id}"
    if round < a.first_round:
        return f"ask opens at round {a.first_round}"
    if round > a.last_round:
        return f"ask expired after round {a.last_round}"
    if a.samples < 1:
        return "ask offers no samples"
    try:
        signer = recover_signer(a.digest(domain), signed.signature)
    except SignatureError as exc:
        return f"bad signature: {exc}"
    if signer != a.trainer:
        return f"ask signed by {signer}, not by trainer {a.trainer}"
    return None


def valid_asks(asks: Iterable[SignedAsk], domain: Domain, *, task_id: int, round: int,
               candidates: Sequence[str]) -> tuple[list[SignedAsk], dict[str, str]]:
    """The asks that bid this round (sorted by trainer), and each left-out trainer's reason.

    Only the task's candidates bid; a trainer with two valid asks for the round has none (which
    one holds would be the relay's choice, and the draw must be nobody's choice)."""
    allowed, valid, rejected = set(candidates), {}, {}
    for signed in dict.fromkeys(asks):  # the same signed ask relayed twice is one ask
        reason = ask_problem(signed, domain, task_id=task_id, round=round)
        if reason is None and signed.trainer not in allowed:
            reason = "not a trainer of the task"
        if reason is None:
            valid.setdefault(signed.trainer, []).append(signed)
        else:
            rejected.setdefault(signed.trainer, reason)
    for trainer in [t for t, held in valid.items() if len(held) > 1]:
        del valid[trainer]
        rejected[trainer] = "two asks for the round"
    for trainer in valid:
        rejected.pop(trainer, None)  # an old ask out of its window beside the one that holds
    return [valid[t][0] for t in sorted(valid)], rejected


class AskBook:
    """Where trainers publish their signed asks and the coordinator reads them: a list in the
    simulator; a deployed book would be a published directory of the same signed asks."""

    def __init__(self) -> None:
        self.asks: list[SignedAsk] = []

    def publish(self, signed: SignedAsk) -> None:
        self.asks.append(signed)

    def current(self) -> list[SignedAsk]:
        return list(self.asks)
