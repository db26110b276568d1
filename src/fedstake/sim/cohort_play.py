"""A simulated cohort's answers to a round: honest trainers and the misbehaviours wrapping them.

Attackers of one kind collude (ALIE and IPM need their colluders' honest
updates) and Sybil clones share one training run, so the simulator plays
the cohort as a whole: train everyone who trains in one batch (so it can
vectorise), craft each dishonest update from what its trainer may know,
then let every trainer finish its own submission. Under proof-of-learning
honest training records its real checkpoints; every trainer whose update
is not what it trained (attackers, free-riders, copiers, clones, the
cheats of `learn.cheats`) fabricates the most plausible transcript.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Sequence

import torch

from fedstake.learn.attacks import AttackContext
from fedstake.learn.cheats import skip_half
from fedstake.proof.pol import PolRules
from fedstake.protocol.messages import RoundTask, Submission
from fedstake.protocol.participation import BatchTrainer, train_one_by_one
from fedstake.protocol.trainer import Trained, Trainer
from fedstake.sim.dishonest_trainers import DishonestTrainer, behaviour_of


def _sybil_leaders(cohort: Sequence[Trainer], families: Sequence[Sequence[str]]) -> dict[str, str]:
    """Each selected Sybil -> the family member that trains for it (its first selected member)."""
    selected = {t.address for t in cohort}
    leader: dict[str, str] = {}
    for family in families:
        present = [a for a in family if a in selected]
        leader.update({a: present[0] for a in present})
    return leader


def _runs(cohort: Sequence[Trainer], task: RoundTask, leaders: dict[str, str], train: BatchTrainer,
          interval: int | None) -> dict[str, Trained]:
    """What each trainer trained (or copied), with the checkpoints of real training runs only.
    The batch always holds the same members for the same cohort: a trainer's last bits can
    depend on its batch companions."""
    workers = [t for t in cohort if behaviour_of(t).trains and behaviour_of(t).cheat != "skip-half"
               and leaders.get(t.address, t.address) == t.address]
    runs = dict(zip((t.address for t in workers), train(workers, task, interval))) if workers else {}
    for t in cohort:
        if behaviour_of(t).cheat == "skip-half":
            steps = skip_half(t.module, t.spec, task.global_params, t.x, t.y, t.training,
                              seed=t.data_seed(task), interval=interval or 1)
            runs[t.address] = Trained(steps[-1] - task.global_params, steps)
        if leaders.get(t.address, t.address) != t.address:  # a clone sends its leader's update
            runs[t.address] = Trained(runs[leaders[t.address]].update)
    honest = sorted(a for a in runs if a not in leaders)
    for t in cohort:
        if behaviour_of(t).cheat == "copy" and honest:
            runs[t.address] = Trained(runs[honest[0]].update)  # someone else's update, passed off as its own
    return runs


def _contexts(cohort: Sequence[Trainer], task: RoundTask, runs: dict[str, Trained]) -> dict[str, AttackContext]:
    """What each dishonest trainer may know: the runs of the cohort's trainers of its kind (its
    colluders, in address order), how many they are, and the last global change."""
    by_kind: dict[str, list[DishonestTrainer]] = defaultdict(list)
    for t in sorted(cohort, key=lambda t: t.address):
        if isinstance(t, DishonestTrainer):
            by_kind[t.behaviour.name].append(t)
    previous = task.previous_change if task.previous_change is not None else torch.zeros_like(task.global_params)
    contexts = {}
    for kind in by_kind.values():
        for t in kind:
            colluding = torch.stack([runs[k.address].update for k in kind]) if t.behaviour.colludes else None
            contexts[t.address] = AttackContext(previous, len(cohort), len(kind), t.generator(task), colluding)
    return contexts


def play_cohort(
    cohort: Sequence[Trainer],
    task: RoundTask,
    *,
    sybil_families: Sequence[Sequence[str]] = (),
    train: BatchTrainer = train_one_by_one,
    pol: PolRules | None = None,
) -> list[Submission]:
    """Every selected trainer's submission, in cohort order."""
    leaders = _sybil_leaders(cohort, sybil_families)
    runs = _runs(cohort, task, leaders, train, pol.interval if pol else None)
    contexts = _contexts(cohort, task, runs)
    submissions = []
    for t in cohort:
        run = t.play(runs.get(t.address), contexts[t.address]) if isinstance(t, DishonestTrainer) else runs[t.address]
        submissions.append(t.submit(task, run, pol=pol))
    return submissions
