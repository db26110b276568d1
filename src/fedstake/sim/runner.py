"""Run a scenario: rounds, claims, closing the task, and the run's results."""

from __future__ import annotations

import time
from typing import Callable, Sequence

from fedstake import __version__
from fedstake.chain.stopwatch import Stopwatch
from fedstake.learn.privacy import PrivacyAccountant
from fedstake.learn.train import evaluate
from fedstake.protocol.ledger import claim
from fedstake.protocol.messages import RoundTask, Submission
from fedstake.protocol.participation import train_one_by_one, train_vectorised
from fedstake.protocol.round import RoundReport, run_round
from fedstake.protocol.trainer import Trained, Trainer
from fedstake.sim.cohort_play import play_cohort
from fedstake.sim.config import Scenario, resolved
from fedstake.sim.drift import Drift
from fedstake.sim.results import ParticipantRow, Results, RoundRow, hex0x, settlement_rows, summary_row
from fedstake.edge import RoundTiming
from fedstake.sim.edge import Gate, PayoutClock
from fedstake.sim.sequence import next_task, tally_claims
from fedstake.sim.world import World, build_world


class InProcessTransport:
    """The simulator's transport: the selected trainers are played in process, as one batch.
    With an edge model, only those online who choose to take part train, and only the
    updates that arrive before the deadline are delivered."""

    def __init__(self, world: World) -> None:
        self._by_address = {t.address: t for t in world.trainers}
        self._families = world.sybil_families
        self._samples = {t.address: t.samples for t in world.trainers}
        self.edge = world.edge
        self.pol = world.session.terms.pol
        self.training = Stopwatch()  # the cohort's own training, apart from the protocol around it
        self._train = train_one_by_one if world.scenario.task.cohort_training == "one-by-one" else train_vectorised
        self.gate: Gate | None = None
        self.timing: RoundTiming | None = None

    def __call__(self, cohort: Sequence[str], task: RoundTask) -> list[Submission]:
        if self.edge is not None:
            self.gate = self.edge.gate(task.round, cohort, self._samples)
            cohort = self.gate.present
        trainers = [self._by_address[a] for a in cohort]
        submissions = play_cohort(trainers, task, sybil_families=self._families, train=self._timed_train,
                                  pol=self.pol) if trainers else []
        if self.edge is not None:
            submissions, self.timing = self.edge.time(task.round, submissions, self._samples)
        return submissions

    def _timed_train(self, trainers: Sequence[Trainer], task: RoundTask, interval: int | None = None) -> list[Trained]:
        with self.training.measure("training"):
            return self._train(trainers, task, interval)

    def reveal(self, trainer: str, task: RoundTask, segments: Sequence[int]):
        """A spot check reaches the trainer in process; it answers from what it kept this round."""
        return self._by_address[trainer].reveal(task, segments)


def _accountant(scenario: Scenario) -> PrivacyAccountant | None:
    if scenario.privacy is None:
        return None
    return PrivacyAccountant(noise_multiplier=scenario.privacy.noise_multiplier, delta=scenario.privacy.delta,
                             sampling_rate=scenario.task.clients_per_round / scenario.trainer_count)


def _round_row(world: World, report: RoundReport, accountant: PrivacyAccountant | None) -> RoundRow:
    spec, module = world.validators[0].rules.spec, world.trainers[0].module
    summary = report.summary
    accuracy, loss = evaluate(module, spec, report.new_params, world.dataset.x_test, world.dataset.y_test)
    privacy = None
    if accountant is not None:
        noised = {t.address for t in world.trainers if t.privacy is not None}  # attackers do not noise
        received = sum(a in noised for a in summary.accepted)  # noised updates that counted
        privacy = vars(accountant.record_round(received=received, expected=world.scenario.task.clients_per_round))
    proposals, disputes = settlement_rows(report.settlement)
    row = summary_row(report.round, summary, accuracy=accuracy, loss=loss, selected=list(report.selected),
                      proposals=proposals, disputes=disputes, tx_hash=report.settlement.finalize_tx,
                      finalized_at=report.settlement.finalized_at)
    row.privacy = privacy
    row.pol = [{"trainer": a.trainer, "segments": list(a.segments), "distance": a.distance, "passed": a.passed,
                "reason": a.reason, "dispute": a.dispute.dispute_id if a.dispute else None,
                "upheld": a.dispute.upheld if a.dispute else None} for a in report.settlement.audits]
    return row


def _claim_all(world: World) -> dict[str, int]:
    """Every trainer and validator with something new in the latest published table claims it;
    returns what each was paid. What each has claimed is tracked here, not read back each time."""
    market, task_id, ledger = world.deployment.market, world.task_id, world.session.ledger
    root = market.rewards_root(task_id)
    paid: dict[str, int] = {}
    for account in [t.account for t in world.trainers] + [v.account for v in world.validators]:
        ticket = ledger.ticket(account.address)
        if ticket is None or account.address in world.forfeited:
            continue
        already = world.claimed.get(account.address, (0, 0))
        if (ticket.cumulative, ticket.accepted_rounds) > already and ticket.cumulative >= already[0]:
            operation = "claim_again" if already != (0, 0) else "claim_first"
            paid[account.address] = claim(market, task_id, account, ticket, operation=operation, root=root)
            world.claimed[account.address] = (ticket.cumulative, ticket.accepted_rounds)
    return paid


def _reclaim_forfeited(world: World) -> int:
    """The requester takes back what slashed trainers earned but forfeited."""
    market, total = world.deployment.market, 0
    for address in sorted(world.forfeited):
        ticket = world.session.ledger.ticket(address)
        if ticket is not None and ticket.cumulative > 0:
            total += market.reclaim_forfeited(world.task_id, address, ticket.cumulative, ticket.accepted_rounds,
                                              ticket.proof, sender=world.requester.account)
    return total


def _participants(world: World) -> list[ParticipantRow]:
    registry = world.deployment.registry
    rows = [ParticipantRow(world.requester.address, "requester", "honest", 0, 0, 0, 0, 0)]
    for v in world.validators:
        rows.append(ParticipantRow(v.address, "validator", world.behaviours[v.address], 0, world.stakes[v.address],
                                   registry.stake_of(v.address), registry.slashed_of(v.address),
                                   world.claimed_total.get(v.address, 0)))
    edge = world.edge
    for t in world.trainers:
        row = ParticipantRow(t.address, "trainer", world.behaviours[t.address], t.samples, world.stakes[t.address],
                             registry.stake_of(t.address), registry.slashed_of(t.address),
                             world.claimed_total.get(t.address, 0))  # a reclaim also moves claimed() on chain
        if edge is not None:
            device = edge.devices[edge.index[t.address]]
            row.energy_j, row.bytes_sent = edge.spent.energy_j.get(t.address, 0.0), edge.spent.bytes.get(t.address, 0)
            row.device_cost, row.device_class, row.link = edge.spent.cost.get(t.address, 0.0), device.cls.name, \
                device.link.profile.name
        rows.append(row)
    return rows


def _end_task(world: World) -> int:
    """Close the task (its refund), mint its model NFT, and let every bond go back to free stake."""
    market = world.deployment.market
    refunded = world.requester.close_task(market, world.task_id)
    if market.rounds_done(world.task_id):
        world.requester.mint_model(world.deployment.models, world.task_id)
    registry = world.deployment.registry
    for account in [v.account for v in world.validators] + [t.account for t in world.trainers]:
        if registry.bond_of(market.address, world.task_id, account.address):  # a full slash leaves none
            market.release_bond(world.task_id, account.address, sender=account)
    return refunded


def _task_gas(world: World) -> int:
    """Gas the task itself spent: everything but deploying the system and minting test tokens."""
    infrastructure = ("deploy_", "set_", "mint")
    return sum(sum(v) for op, v in world.backend.gas.samples.items() if not op.startswith(infrastructure))


def _supply_conserved(world: World) -> bool:
    token, d = world.deployment.token, world.deployment
    held = sum(token.balance_of(a) for a in world.accounts)
    held += token.balance_of(d.registry.address) + token.balance_of(d.market.address)
    return held == token.total_supply()


def _edge_row(transport: InProcessTransport, report: RoundReport, payouts: PayoutClock) -> dict:
    gate, timing = transport.gate, transport.timing
    assert gate is not None and timing is not None
    edge = transport.edge
    for trainer in report.summary.accepted:
        if report.summary.rewards.trainer_rewards.get(trainer):
            payouts.contributed(trainer, timing.paths[edge.index[trainer]].upload_end)
    summary = timing.summary()
    return {**summary, "time_s": timing.end, "offline": len(gate.offline), "declined": len(gate.declined),
            "took_part": len(gate.present), "stragglers": [a for a in gate.present
                                                           if edge.index[a] in set(timing.dropped)]}


def _play(world: World, on_round: Callable[[RoundRow], None] | None, payouts: PayoutClock,
          accountant: PrivacyAccountant | None, drift: Drift, training: Stopwatch) -> tuple[list[RoundRow], float]:
    """Every round of the world's current task; returns the rows and the rounds' wall time (the
    cohort's own training adds to `training`)."""
    scenario, transport, timed = world.scenario, InProcessTransport(world), world.session.phases.measure
    transport.training = training
    rows, claim_every, spent = [], scenario.rewards.claim_every, 0.0
    for round_number in range(1, scenario.task.rounds + 1):
        started = time.perf_counter()
        report = run_round(world.session, round_number, transport)
        world.keep_model(report.new_params)
        if report.auction is not None:
            world.asks[round_number] = report.auction.asks
        if report.summary.table is not None and report.summary.table.entries:  # an empty one commits to nothing
            world.tables[round_number] = report.summary.table
        world.forfeited.update(d.accused for d in report.settlement.disputes if d.kind == "update" and d.upheld)
        with timed("evaluation"):
            row = _round_row(world, report, accountant)
        if world.edge is not None:
            row.edge = _edge_row(transport, report, payouts)
        row.task, row.concentration = world.task_id, drift.measure(world, row)
        with timed("claims"):
            if claim_every and round_number % claim_every == 0 and round_number < scenario.task.rounds:
                _claim_all(world)
        if world.edge is not None:
            _paid(world, transport, _newly_final(world), payouts)
        spent += time.perf_counter() - started
        rows.append(row)
        if on_round is not None:
            on_round(row)
    return rows, spent


def round_timing(rounds_s: float, phases: Stopwatch, training: Stopwatch, validators: Sequence) -> dict:
    """results.json's `timing` keys for the rounds: their wall time, the cohort's own training
    (what the cohort engine spends in `train_cohort`, or each trainer's `local_train` one by one),
    the protocol around it over that training, and the wall time of each step (the trainers' step
    split into their training and the rest: privacy, encoding, signing, sealing; the validators'
    assessments, summed over validators, by what they did)."""
    training_s = training.seconds
    steps = dict(phases.by_label)
    steps["submit"] = steps.pop("trainers", 0.0) - training_s
    steps["training"] = training_s
    steps["other"] = rounds_s - sum(steps.values())  # the rounds' bookkeeping between the steps timed
    assessing: dict[str, float] = {}
    for v in validators:
        for label, seconds in v.phases.by_label.items():
            assessing[label] = assessing.get(label, 0.0) + seconds
    return {"rounds_s": round(rounds_s, 3), "training_s": round(training_s, 3),
            "protocol_over_training": round((rounds_s - training_s) / training_s, 3) if training_s else None,
            "round_phases_s": {k: round(v, 4) for k, v in sorted(steps.items(), key=lambda item: -item[1])},
            "assess_phases_s": {k: round(v, 4) for k, v in sorted(assessing.items(), key=lambda item: -item[1])}}


def _newly_final(world: World) -> dict[str, int]:
    """What each trainer gained in the latest final rewards root: from then on it is the
    trainer's, one claim away (a claim covers any number of rounds, so when the trainer
    sends it is its own choice and does not delay what it can spend)."""
    gained: dict[str, int] = {}
    for address, (total, _) in world.session.ledger.published.entries.items():
        before = world.credited.get(address, 0)
        if total > before and address not in world.forfeited:
            gained[address] = total - before
        world.credited[address] = total
    return gained


def _paid(world: World, transport: InProcessTransport, received: dict[str, int], payouts: PayoutClock) -> None:
    """New rewards in a final root are spendable once a claim sent then is final;
    devices learn from them."""
    assert world.edge is not None and transport.timing is not None and transport.gate is not None
    for address in received:
        payouts.paid(address, transport.timing.settlement.paid)
    world.edge.end_round(received, transport.gate.present)


def run_scenario(scenario: Scenario, *, on_round: Callable[[RoundRow], None] | None = None) -> tuple[Results, World]:
    """Play every round of `scenario` on its chain; returns the results and the final world."""
    started = time.perf_counter()
    world = build_world(scenario)
    try:
        setup_s = time.perf_counter() - started
        payouts, accountant, drift, training = PayoutClock(), _accountant(scenario), Drift(), Stopwatch()
        market, rows, budget, paid, refunded, rounds_s = world.deployment.market, [], 0, 0, 0, 0.0
        for index in range(scenario.task.tasks):
            if index:
                phases = world.session.phases  # one account of the steps over every task
                next_task(world)
                world.session.phases = phases
            task_rows, task_s = _play(world, on_round, payouts, accountant, drift, training)
            rows, rounds_s = rows + task_rows, rounds_s + task_s
            task_refunded = _end_task(world)
            _claim_all(world)
            task_refunded += _reclaim_forfeited(world)
            task = market.task(world.task_id)
            budget, refunded = budget + task.budget, refunded + task_refunded
            paid += task.budget - market.view("escrow_left", world.task_id) - task_refunded
            tally_claims(world)
        results = Results(
            fedstake_version=__version__,
            scenario=resolved(scenario),
            chain={"backend": world.backend.name, "chain_id": world.backend.chain_id, "rpc_url": scenario.chain.rpc_url,
                   "contracts": world.deployment.addresses(), "task_id": world.task_id,
                   "gas": world.backend.gas.summary(), "gas_total": _task_gas(world)},
            learning={"aggregator": {"name": world.validators[0].aggregator.name,
                                     "params": dict(world.validators[0].aggregator.params)}},
            rounds=rows,
            participants=_participants(world),
            final={"accuracy": rows[-1].accuracy, "model_hash": hex0x(world.session.model_hash),
                   "budget": budget, "paid": paid, "refunded": refunded,
                   "supply_conserved": _supply_conserved(world),
                   "time_s": world.edge.now_s if world.edge else None,
                   "payout_latency_p50_s": payouts.percentile(50), "payout_latency_p95_s": payouts.percentile(95)},
            timing={"setup_s": round(setup_s, 3), "total_s": round(time.perf_counter() - started, 3),
                    "chain_s": round(world.backend.stopwatch.seconds, 3),
                    "chain_breakdown_s": {label: round(seconds, 3) for label, seconds in sorted(
                        world.backend.stopwatch.by_label.items(), key=lambda item: -item[1])},
                    **round_timing(rounds_s, world.session.phases, training, world.validators)},
        )
    finally:
        world.backend.close()
    return results, world
