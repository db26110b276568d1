"""A simulated cohort played as a whole: attackers see their colluders, clones share a run,
cheats fabricate transcripts, and honest trainers answer exactly as a device alone would."""

import dataclasses

import torch

from fedstake.proof.codec import decode_update
from fedstake.proof.pol import PolRules
from fedstake.protocol.participation import train_one_by_one
from fedstake.sim.cohort_play import play_cohort

POL = PolRules(interval=1, segments=2, tolerance=1e-2)


def flat(sub, spec):
    return spec.flatten(decode_update(sub.payload))


def test_honest_trainers_in_a_cohort_send_what_each_device_sends_alone(make_trainer, round_task):
    cohort = [make_trainer(f"t{i}", start=60 * i) for i in range(3)]
    played = play_cohort(cohort, round_task, train=train_one_by_one, pol=POL)
    alone = [make_trainer(f"t{i}", start=60 * i).respond(round_task, pol=POL) for i in range(3)]
    assert [s.payload for s in played] == [s.payload for s in alone]
    assert [s.signed for s in played] == [s.signed for s in alone]


def test_sign_flip_sends_minus_lambda_times_the_honest_update(make_trainer, round_task, kit):
    honest = play_cohort([make_trainer("x")], round_task)[0]
    flipped = play_cohort([make_trainer("x", "sign-flip", **{"lambda": 4.0})], round_task)[0]
    assert torch.allclose(flat(flipped, kit[2]), -4.0 * flat(honest, kit[2]), atol=1e-6)


def test_colluding_ipm_attackers_send_minus_epsilon_times_their_mean(make_trainer, round_task, kit):
    spec = kit[2]
    attackers = [make_trainer(f"a{i}", "ipm", start=60 * i) for i in range(2)]
    honest = [make_trainer(f"a{i}", start=60 * i) for i in range(2)]
    own = torch.stack([flat(s, spec) for s in play_cohort(honest, round_task)])
    subs = play_cohort(attackers, round_task)
    expected = -0.1 * own.double().mean(0)
    assert all(torch.allclose(flat(s, spec).double(), expected, atol=1e-6) for s in subs)


def test_free_riders_do_not_train_and_stale_ones_resend_the_last_change(make_trainer, round_task, kit):
    previous = torch.full_like(round_task.global_params, 0.01)
    task = dataclasses.replace(round_task, previous_change=previous)
    zero, stale = play_cohort([make_trainer("z", "free-rider-zero"), make_trainer("s", "free-rider-stale")], task)
    assert float(flat(zero, kit[2]).abs().sum()) == 0.0
    assert torch.equal(flat(stale, kit[2]), previous)


def test_sybil_clones_send_the_same_bytes_under_different_identities(make_trainer, round_task):
    clones = [make_trainer(f"c{i}", "sybil", start=60 * i) for i in range(3)]
    subs = play_cohort(clones, round_task, sybil_families=[tuple(c.address for c in clones)])
    assert len({s.payload for s in subs}) == 1 and len({s.trainer for s in subs}) == 3


def test_under_proof_of_learning_only_real_runs_keep_their_transcripts(make_trainer, round_task):
    honest, copier = make_trainer("h"), make_trainer("c", "copy")
    clones = [make_trainer(f"s{i}", "sybil", start=60 * (i + 1)) for i in range(2)]
    subs = play_cohort([honest, copier, *clones], round_task, sybil_families=[tuple(c.address for c in clones)],
                       pol=POL)
    leader = clones[0]
    assert subs[0].transcript == honest.respond(round_task, pol=POL).transcript
    assert subs[1].payload == subs[0].payload and subs[1].transcript.root != subs[0].transcript.root  # copied
    assert subs[2].transcript == leader.respond(round_task, pol=POL).transcript  # the clone that trains
    assert subs[3].payload == subs[2].payload and subs[3].transcript.root != subs[2].transcript.root


def test_skip_half_submits_an_extrapolation_of_half_its_training(make_trainer, round_task):
    (skipper,) = play_cohort([make_trainer("k", "skip-half")], round_task, pol=POL)
    honest = make_trainer("k").respond(round_task, pol=POL)  # the same device, training every step
    half = len(honest.transcript.hashes) // 2 + 1
    assert skipper.transcript.hashes[:half] == honest.transcript.hashes[:half]
    assert skipper.transcript.hashes[half:] != honest.transcript.hashes[half:] and skipper.payload != honest.payload
