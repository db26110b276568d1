"""What a run was about, for the console: a line per round, then the outcome behind the final accuracy.

Each line answers a question a scenario asks: which updates were rejected
and why, which rounds could not aggregate, which disputes were raised and
how they ended, who was slashed, what the edge did to the cohort, and
where the task lives on chain (with the `fedstake verify-model` command
when the chain outlives the run). Lines with nothing to say are left out.
Pure functions of `Results`, so the summary is the same for any caller.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

from fedstake.sim.results import Results, RoundRow

TOKEN = 10**18
_REASONS_SHOWN = 2


def short(address: str) -> str:
    return f"{address[:6]}…{address[-4:]}"


def token_amount(amount: int) -> str:
    """Base units as whole tokens for a reader: two decimals at most, trailing zeros dropped
    ("1,000", "0.5"); an amount too small for two decimals keeps two significant digits
    ("6.8e-17": the rounding dust a refund often is) rather than reading as none."""
    value = amount / TOKEN
    if amount and abs(value) < 0.005:
        return f"{value:.2g}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def tokens(amount: int) -> str:
    return f"{token_amount(amount)} tokens"


def _who(results: Results) -> dict[str, str]:
    """address -> "role (behaviour)" for every participant."""
    return {p.address: p.role if p.behaviour == "honest" else f"{p.role} ({p.behaviour})"
            for p in results.participants}


def round_line(row: RoundRow, rounds: int) -> str:
    """One round as it ends: accuracy, who was accepted, what the edge did, disputes, a held round's reason."""
    line = (f"round {row.round:>3}/{rounds}  acc {row.accuracy:.4f}  loss {row.loss:.4f}  "
            f"accepted {len(row.accepted)}/{len(row.selected)}")
    if row.rejected:
        line += f"  rejected {len(row.rejected)}"
    if row.edge:
        line += f"  offline {row.edge['offline']}  declined {row.edge['declined']}  late {len(row.edge['stragglers'])}"
    if row.disputes:
        line += f"  disputes {len(row.disputes)} ({sum(1 for d in row.disputes if d['upheld'])} upheld)"
    line += f"  root {row.rewards_root[:12]}…"
    return line + (f"  kept the model, paid nothing: {row.held}" if row.held else "")


def final_line(results: Results) -> str:
    final = results.final
    return (f"final accuracy {final['accuracy']:.4f}  paid {token_amount(final['paid'])} of "
            f"{tokens(final['budget'])}  refunded {tokens(final['refunded'])}  "
            f"supply conserved: {final['supply_conserved']}  ({results.timing['total_s']:.1f} s)")


def rejections(results: Results) -> str | None:
    """Rejected updates by the sender's behaviour, with their reasons."""
    behaviour = {p.address: p.behaviour for p in results.participants}
    counts: Counter[str] = Counter()
    reasons: dict[str, Counter[str]] = defaultdict(Counter)
    for row in results.rounds:
        for r in row.rejected:
            counts[behaviour.get(r["trainer"], "?")] += 1
            reasons[behaviour.get(r["trainer"], "?")][r["reason"]] += 1
    if not counts:
        return None
    parts = []
    for name, count in counts.most_common():
        top = [f'"{reason}"' for reason, _ in reasons[name].most_common(_REASONS_SHOWN)]
        more = len(reasons[name]) - len(top)
        others = f" and {more} other reason{'s' if more > 1 else ''}" if more else ""
        parts.append(f"{count} from {name} trainers: " + ", ".join(top) + others)
    return f"{sum(counts.values())} updates; " + "; ".join(parts)


def held_rounds(results: Results) -> str | None:
    """The rounds that kept the previous model, grouped by their own reason (in order of first use)."""
    by_reason: dict[str, list[int]] = defaultdict(list)
    for row in results.rounds:
        if row.held:
            by_reason[row.held].append(row.round)
    if not by_reason:
        return None
    return "; ".join(f"round{'s' if len(numbers) > 1 else ''} {', '.join(map(str, numbers))} kept the previous model "
                     f"and paid nothing: {reason}" for reason, numbers in by_reason.items())


def _dispute(d: dict, who: dict[str, str]) -> str:
    yes = sum(1 for v in d["votes"].values() if v)
    votes = f"{yes} of {len(d['votes'])} votes to uphold"
    parties = (f"{d['kind']} dispute by {who.get(d['challenger'], '?')} {short(d['challenger'])} against "
               f"{who.get(d['accused'], '?')} {short(d['accused'])}")
    if d["upheld"]:
        return f"{parties}: upheld ({votes}), {tokens(d['slashed'])} slashed"
    return f"{parties}: dismissed ({votes}), the challenger's bond to the insurance pool"


def disputes(results: Results) -> list[str]:
    """One line per dispute: who challenged whom, the vote, the outcome."""
    who = _who(results)
    return [f"round {row.round}: {_dispute(d, who)}" for row in results.rounds for d in row.disputes]


def slashes(results: Results) -> list[str]:
    who = _who(results)
    return [f"{who[p.address]} {short(p.address)} lost {tokens(p.slashed)} of the {tokens(p.stake_initial)} it staked"
            for p in results.participants if p.slashed]


def _spread(values: list[int]) -> str:
    low, high, total = min(values), max(values), sum(values)
    if total == 0:
        return "none"
    return (f"{low}-{high} a round" if low != high else f"{low} a round") + f" ({total} in all)"


def edge(results: Results) -> str | None:
    rows = [row.edge for row in results.rounds if row.edge]
    if not rows:
        return None
    deadline = (results.scenario.get("edge") or {}).get("deadline")
    late = f", missed the {deadline:g} s deadline" if deadline else ""
    stragglers = _spread([len(e["stragglers"]) for e in rows])
    text = (f"of the {results.scenario['task']['clients-per-round']} selected devices: offline "
            f"{_spread([e['offline'] for e in rows])}, declined {_spread([e['declined'] for e in rows])}, "
            f"stragglers {stragglers}{late if stragglers != 'none' else ''}")
    final = results.final
    if final.get("payout_latency_p50_s") is not None:
        text += (f"; payout latency p50 {final['payout_latency_p50_s']:,.0f} s, "
                 f"p95 {final['payout_latency_p95_s']:,.0f} s")
    if final.get("time_s") is not None:
        text += f"; {final['time_s']:,.0f} s ({final['time_s'] / 3600:.1f} h) of simulated time"
    return text


def _verify(results: Results, out: Path) -> str:
    chain = results.chain
    if chain["backend"] == "rpc" and chain.get("rpc_url"):
        return f"fedstake verify-model --model {out / 'model.safetensors'} --manifest {out / 'manifest.json'}"
    where = "the anvil node started for this run" if chain["backend"] == "rpc" else "the embedded chain"
    return (f"{where} ended with the run; to check the model later, run the scenario against a node that stays "
            "(`fedstake node`, then chain.backend = \"rpc\" and chain.rpc-url)")


def summary(results: Results, out: Path) -> list[tuple[str, str]]:
    """(label, text) lines for the console, in reading order; a label may repeat (one dispute a line)."""
    chain = results.chain
    lines = [("rejected", rejections(results)), ("held", held_rounds(results)),
             *(("dispute", text) for text in disputes(results)), *(("slashed", text) for text in slashes(results)),
             ("edge", edge(results)),
             ("task", f"{chain['task_id']} on the {chain['backend']} chain (chain id {chain['chain_id']})"),
             ("contracts", ", ".join(f"{name} {address}" for name, address in chain["contracts"].items())),
             ("verify", _verify(results, out))]
    return [(label, text) for label, text in lines if text]
