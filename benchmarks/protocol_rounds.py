"""A round's time outside training over the training's own time, at 10 and at 100 trainers.

    PYTHONPATH=src .venv/bin/python benchmarks/protocol_rounds.py [--rounds 20] [--sizes 10,100]

The quickstart scenario (digits, MLP, 5 local epochs, FedAvg, one validator scoring trust,
claims every 10 rounds, embedded EVM) with N trainers selected per round out of 2N, as the
quickstart selects 10 of 20. Both sizes run in this one process, one after the other, so
their figures share the machine's load; only ratios count.

"Training" is the cohort's own local training of the round as the cohort engine runs it:
the wall time inside `train_cohort` (results.json `timing.training_s`). A round's time is
one iteration of the runner's round loop: cohort draw, training, the trainers' privacy,
encoding and signing, the validators' assessment and conclusion, settlement on chain,
adoption, the test-set evaluation, and the claims of the rounds that claim
(`timing.rounds_s`). `protocol_over_training_N` is (rounds_s - training_s) / training_s;
issue 13 asks for at most 1. The per-step split (`timing.round_phases_s`,
`timing.assess_phases_s`) says where the rest goes. The last line printed is one JSON
object.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def measure(trainers: int, rounds: int) -> dict:
    """The quickstart's `timing` with `trainers` selected per round out of twice as many."""
    from fedstake.sim.config import load_scenario
    from fedstake.sim.runner import run_scenario

    scenario = load_scenario(ROOT / "examples" / "quickstart.toml",
                             [f"task.rounds={rounds}", f"trainers.0.count={2 * trainers}",
                              f"task.clients-per-round={trainers}"])
    results, _ = run_scenario(scenario)
    return results.timing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="rounds per run (claims every 10)")
    parser.add_argument("--sizes", default="10,100", help="trainers per round, comma-separated")
    args = parser.parse_args()
    figures: dict[str, object] = {"load_average_1m": round(os.getloadavg()[0], 2), "rounds": args.rounds}
    for n in (int(size) for size in args.sizes.split(",")):
        timing = measure(n, args.rounds)
        per_round = {k: round(v / args.rounds * 1000, 2) for k, v in timing["round_phases_s"].items()}
        print(f"{n:4d} trainers: {timing['rounds_s'] / args.rounds * 1000:8.1f} ms a round, training "
              f"{timing['training_s'] / args.rounds * 1000:.1f} ms, outside {timing['protocol_over_training']:.2f}x")
        print("      ms a round by step: " + ", ".join(f"{k} {v}" for k, v in per_round.items()))
        print("      assessing: " + ", ".join(f"{k} {v / args.rounds * 1000:.2f}"
                                               for k, v in timing["assess_phases_s"].items()))
        figures[f"protocol_over_training_{n}"] = timing["protocol_over_training"]
        figures[f"round_ms_{n}"] = round(timing["rounds_s"] / args.rounds * 1000, 2)
        figures[f"training_ms_{n}"] = round(timing["training_s"] / args.rounds * 1000, 2)
        figures[f"phases_ms_{n}"] = per_round
        figures[f"assess_ms_{n}"] = {k: round(v / args.rounds * 1000, 2) for k, v in timing["assess_phases_s"].items()}
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
