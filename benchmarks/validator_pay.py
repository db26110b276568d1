"""Validator pay under every scorer and every dishonest behaviour (issue 12, item 2).

    PYTHONPATH=$PWD/src OMP_NUM_THREADS=1 python benchmarks/validator_pay.py \
        --rounds 20 --seeds 1 2 3 --out benchmarks/validator_pay.json

The scenario is examples/validator-consensus.toml with a cohort of 10 (so
exact Shapley stays at 1,024 coalitions) and five validators: four honest
and, in each run, one playing `behaviour`. For every (scorer, behaviour,
seed) it records what each validator was paid over the run, each honest
validator's agreement with the consensus (its per-round trust), and the
ratio the issue asks about: the dishonest validator's pay over the
lowest-paid honest validator's (below 1 means the liar earns less than
every honest validator). With `--liar-shift` it also runs each scorer with
five honest validators and reports how far one liar moves the consensus:
the L1 distance between the consensus vectors with and without it,
relative to the honest consensus's L1 mass, per round (worst round kept).
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

import numpy as np

from fedstake.proof.consensus import agreement_with, normalise_rows
from fedstake.sim.config import load_scenario, parse_scenario
from fedstake.sim.runner import run_scenario

EXAMPLE = Path(__file__).parents[1] / "examples" / "validator-consensus.toml"
SCORERS = ("trust", "loo", "gtg-shapley", "exact-shapley")
BEHAVIOURS = ("random", "lazy-copy", "late-copy", "collude")


def scenario(scorer: str, seed: int, rounds: int, last: dict | None, overrides: list[str] = ()):
    """validator-consensus.toml, cohort 10, four honest validators and `last` as the fifth."""
    base = load_scenario(EXAMPLE, [f"task.rounds={rounds}", f"proof.scorer={scorer}", f"task.seed={seed}",
                                   "task.clients-per-round=10", *overrides])
    raw = base.model_dump(by_alias=True, mode="json", exclude_unset=True)
    raw["validators"] = [{"count": 4}, {"count": 1, **(last or {})}]
    return parse_scenario(raw)


def liar(behaviour: str) -> dict:
    return {"behaviour": behaviour, **({"colludes-with": 1} if behaviour == "collude" else {})}


def pay_run(scorer: str, behaviour: str, seed: int, rounds: int, overrides: list[str] = ()) -> dict:
    results, _ = run_scenario(scenario(scorer, seed, rounds, liar(behaviour), overrides))
    validators = [p for p in results.participants if p.role == "validator"]
    honest = [p for p in validators if p.behaviour == "honest"]
    dishonest = next(p for p in validators if p.behaviour == behaviour)
    agreement = honest_agreement(results, {p.address for p in honest})
    return {
        "scorer": scorer, "behaviour": behaviour, "seed": seed, "rounds": rounds,
        "honest_pay": [p.rewards_claimed for p in honest], "dishonest_pay": dishonest.rewards_claimed,
        "ratio": dishonest.rewards_claimed / min(p.rewards_claimed for p in honest),
        "share": dishonest.rewards_claimed / (sum(p.rewards_claimed for p in validators) or 1),
        "honest_agreement_mean": statistics.fmean(agreement), "honest_agreement_min": min(agreement),
    }


def honest_agreement(results, honest: set[str]) -> list[float]:
    """Each honest validator's agreement with the round's consensus (proof.consensus.agreement_with),
    per round, recomputed from the reported scores the results record."""
    out = []
    for r in results.rounds:
        validators = sorted(v for v in r.scores if v in honest)
        if not r.consensus or not validators:
            continue
        trainers = list(r.consensus)
        rows = normalise_rows(np.array([[r.scores[v].get(t, 0.0) for t in trainers] for v in validators]))
        target = np.array([r.consensus[t] for t in trainers])
        out += agreement_with(rows, target, fallback=np.ones(len(validators))).tolist()
    return out


def agreement_run(scorer: str, seed: int, rounds: int, overrides: list[str] = ()) -> dict:
    """Five honest validators: how well each agrees with the consensus, per round."""
    results, _ = run_scenario(scenario(scorer, seed, rounds, None, overrides))
    agreement = honest_agreement(results, {p.address for p in results.participants if p.role == "validator"})
    return {"scorer": scorer, "seed": seed, "rounds": rounds, "agreement_mean": statistics.fmean(agreement),
            "agreement_min": min(agreement)}


def shift_run(scorer: str, behaviour: str, seed: int, rounds: int, overrides: list[str] = ()) -> dict:
    """Worst round's relative L1 shift of the consensus when the fifth validator lies."""
    honest, _ = run_scenario(scenario(scorer, seed, rounds, None, overrides))
    lying, _ = run_scenario(scenario(scorer, seed, rounds, liar(behaviour), overrides))
    shifts = []
    for a, b in zip(honest.rounds, lying.rounds):
        mass = sum(abs(c) for c in a.consensus.values())
        if mass > 0:
            shifts.append(sum(abs(b.consensus.get(t, 0.0) - c) for t, c in a.consensus.items()) / mass)
    return {"scorer": scorer, "behaviour": behaviour, "seed": seed, "rounds": rounds, "worst_shift": max(shifts),
            "mean_shift": statistics.fmean(shifts)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--scorers", nargs="+", default=list(SCORERS))
    parser.add_argument("--behaviours", nargs="+", default=list(BEHAVIOURS))
    parser.add_argument("--liar-shift", action="store_true", help="also measure the consensus shift of one liar")
    parser.add_argument("--set", dest="overrides", action="append", default=[], help="scenario override KEY=VALUE")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--agreement", action="store_true",
                        help="only measure five honest validators' agreement with the consensus, per scorer")
    args = parser.parse_args()
    if args.agreement:
        runs = [agreement_run(scorer, seed, args.rounds, args.overrides) for scorer in args.scorers
                for seed in args.seeds]
        for run in runs:
            print(json.dumps(run), flush=True)
        for scorer in args.scorers:
            mine = [r for r in runs if r["scorer"] == scorer]
            print(f"{scorer}: agreement mean {statistics.fmean(r['agreement_mean'] for r in mine):.3f}, "
                  f"worst validator-round {min(r['agreement_min'] for r in mine):.3f}")
        return
    pay, shift = [], []
    for scorer in args.scorers:
        for behaviour in args.behaviours:
            for seed in args.seeds:
                pay.append(pay_run(scorer, behaviour, seed, args.rounds, args.overrides))
                print(json.dumps(pay[-1]), flush=True)
                if args.liar_shift and behaviour in ("random", "collude"):
                    shift.append(shift_run(scorer, behaviour, seed, args.rounds, args.overrides))
                    print(json.dumps(shift[-1]), flush=True)
    print(table(pay, shift))
    if args.out:
        args.out.write_text(json.dumps({"pay": pay, "shift": shift}, indent=1) + "\n")


def table(pay: list[dict], shift: list[dict]) -> str:
    """Markdown: per scorer and behaviour, the worst (largest) and typical (median) pay ratio over
    the seeds and the liar's median share of the validators' pay; the honest validators' agreement; the worst consensus shift."""
    lines = ["| scorer | " + " | ".join(sorted({r["behaviour"] for r in pay}, key=BEHAVIOURS.index))
             + " | honest agreement (mean, min) | liar shift (worst) |", ""]
    lines[1] = "|---" * (len(lines[0].split("|")) - 2) + "|"
    for scorer in dict.fromkeys(r["scorer"] for r in pay):
        rows = [r for r in pay if r["scorer"] == scorer]
        cells = []
        for behaviour in sorted({r["behaviour"] for r in pay}, key=BEHAVIOURS.index):
            ratios = [r["ratio"] for r in rows if r["behaviour"] == behaviour]
            shares = [r["share"] for r in rows if r["behaviour"] == behaviour]
            if not ratios:  # not measured (a run cut short)
                cells.append("-")
                continue
            cells.append(f"{max(ratios):.2f} ({statistics.median(ratios):.2f}); {statistics.median(shares):.1%}")
        agreement = f"{statistics.fmean(r['honest_agreement_mean'] for r in rows):.2f}, " \
                    f"{min(r['honest_agreement_min'] for r in rows):.2f}"
        shifts = [s["worst_shift"] for s in shift if s["scorer"] == scorer]
        lines.append(f"| {scorer} | " + " | ".join(cells) + f" | {agreement} | "
                     + (f"{max(shifts):.1%}" if shifts else "-") + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
