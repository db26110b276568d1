"""The console summary: each held round with its own reason, counted words in the right number, amounts in tokens."""

from fedstake.sim.results import ParticipantRow, Results, RoundRow
from fedstake.sim.summary import TOKEN, final_line, held_rounds, rejections, tokens

TRAINER = "0x" + "aa" * 20


def row(number: int, *, held: str | None = None, rejected: tuple[str, ...] = ()) -> RoundRow:
    return RoundRow(number, 0.5, 1.0, [], [], [{"trainer": TRAINER, "reason": r} for r in rejected], "0x", "0x", "0x",
                    "0x", 0, held=held)


def results(*rounds: RoundRow, final: dict | None = None) -> Results:
    trainer = ParticipantRow(TRAINER, "trainer", "nan", 1, 1, 1, 0, 0)
    return Results("0", {}, {}, {}, list(rounds), [trainer], final or {}, {"total_s": 1.0})


def test_each_held_round_is_named_with_its_own_reason():
    run = results(row(1, held="krum needs 5"), row(2), row(3, held="all rejected"), row(4, held="krum needs 5"))
    assert held_rounds(run) == ("rounds 1, 4 kept the previous model and paid nothing: krum needs 5; "
                                "round 3 kept the previous model and paid nothing: all rejected")
    assert held_rounds(results(row(1))) is None


def test_one_other_reason_is_singular_and_more_are_plural():
    one = rejections(results(row(1, rejected=("a", "a", "b", "c"))))
    more = rejections(results(row(1, rejected=("a", "a", "b", "c", "d"))))
    assert one.endswith('"a", "b" and 1 other reason') and more.endswith('"a", "b" and 2 other reasons')


def test_amounts_read_as_tokens_even_the_dust_of_a_refund():
    assert tokens(1_000 * TOKEN) == "1,000 tokens" and tokens(TOKEN // 2) == "0.5 tokens" and tokens(0) == "0 tokens"
    assert tokens(68) == "6.8e-17 tokens"
    final = {"accuracy": 0.9, "paid": 10_000 * TOKEN - 68, "budget": 10_000 * TOKEN, "refunded": 68,
             "supply_conserved": True}
    line = final_line(results(row(1), final=final))
    assert "paid 10,000 of 10,000 tokens  refunded 6.8e-17 tokens  supply" in line and "base units" not in line
