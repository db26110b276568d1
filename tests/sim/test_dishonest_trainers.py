"""Dishonest trainers are the honest device with a behaviour on top: what they train on,
what they send, their transcript, their bytes, and no DP."""

import torch

from fedstake.learn.attacks import AttackContext, make_behaviour
from fedstake.learn.privacy import ClientPrivacy
from fedstake.proof.codec import decode_update
from fedstake.proof.pol import PolRules
from fedstake.protocol.trainer import Trained, Trainer
from fedstake.sim.dishonest_trainers import DishonestTrainer, WrongDataTrainer, behaviour_of
from fedstake.sim.dishonest_trainers import make_trainer as make_role

POL = PolRules(interval=1, segments=2, tolerance=1e-2)


def context(task, generator=None) -> AttackContext:
    return AttackContext(torch.zeros_like(task.global_params), 4, 1, generator or torch.Generator().manual_seed(0))


def test_honest_is_the_honest_device_itself(make_trainer):
    trainer = make_trainer("h")
    assert type(trainer) is Trainer and behaviour_of(trainer).name == "honest"
    assert behaviour_of(make_trainer("f", "sign-flip")).name == "sign-flip"


def test_poisoners_train_on_flipped_labels_and_commit_to_them(make_trainer):
    honest, flipper, scaler = make_trainer("f"), make_trainer("f", "label-flip"), make_trainer("f", "scaling")
    assert torch.equal(flipper.y, 9 - honest.y) and torch.equal(scaler.y, flipper.y)
    assert flipper.committed_data.root != honest.committed_data.root


def test_the_wrong_data_cheat_trains_on_garbage_and_commits_to_its_own_labels(make_trainer):
    honest, cheat = make_trainer("w"), make_trainer("w", "wrong-data")
    assert isinstance(cheat, WrongDataTrainer) and bool((cheat.y != honest.y).all())
    assert cheat.committed_data.root == honest.committed_data.root


def test_a_trainer_that_plays_sends_what_its_behaviour_crafts_from_its_run(make_trainer, round_task):
    flipper = make_trainer("s", "sign-flip", **{"lambda": 2.0})
    run = flipper.train(round_task, interval=1)
    played = flipper.play(run, context(round_task))
    assert torch.equal(played.update, -2.0 * run.update) and played.checkpoints is run.checkpoints
    gaussian = make_trainer("g", "gaussian").play(None, context(round_task))
    assert gaussian.checkpoints is None and float(gaussian.update.std()) > 100


def test_its_transcript_is_real_only_when_it_sends_what_it_trained(make_trainer, round_task):
    sybil = make_trainer("c", "sybil")
    run = sybil.train(round_task, interval=1)
    real = sybil.record(round_task, run, POL)
    assert real.transcript == Trainer.record(sybil, round_task, run, POL).transcript
    flipped = sybil.record(round_task, Trained(-run.update, run.checkpoints), POL)
    assert torch.allclose(flipped.update, -run.update, atol=1e-7) and flipped.transcript.root != real.transcript.root
    line = flipped.checkpoints
    assert torch.allclose(line[1] - line[0], line[2] - line[1], atol=1e-6)  # fabricated on a line


def test_malformed_behaviours_break_the_bytes_they_send(make_trainer, round_task, kit):
    spec = kit[2]
    shapes = {name: tuple(v.shape) for name, v in spec.unflatten(round_task.global_params).items()}
    sent = {b: decode_update(make_trainer("m", b).respond(round_task).payload) for b in ("nan", "wrong-shape", "huge-norm")}
    assert any(bool(torch.isnan(v).any()) for v in sent["nan"].values())
    assert {name: tuple(v.shape) for name, v in sent["wrong-shape"].items()} != shapes
    assert float(spec.flatten(sent["huge-norm"]).norm()) > 1e3
    honest = decode_update(make_trainer("m").respond(round_task).payload)
    assert float(spec.flatten(honest).norm()) < 20


def test_dishonest_trainers_never_clip_or_noise(trainer_fields):
    privacy = ClientPrivacy(clip_norm=0.01, noise_multiplier=1e-6, expected_cohort=2)
    flipper = make_role(make_behaviour("sign-flip"), num_classes=10, privacy=privacy, **trainer_fields("f"))
    honest = make_role(make_behaviour("honest"), num_classes=10, privacy=privacy, **trainer_fields("h"))
    assert isinstance(flipper, DishonestTrainer) and flipper.privacy is None and honest.privacy is privacy
