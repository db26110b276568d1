"""The honest trainer: a device's answer to a round, step by step."""

import pytest
import torch

from fedstake.errors import ProtocolError
from fedstake.learn.privacy import ClientPrivacy
from fedstake.proof.codec import decode_update, update_hash
from fedstake.proof.commitment import ZERO_ROOT, verify_commitment
from fedstake.proof.pol import PolRules, check_segment
from fedstake.protocol.trainer import Trained, data_order_seed

POL = PolRules(interval=1, segments=2, tolerance=1e-2)


def sent(sub, spec) -> torch.Tensor:
    return spec.flatten(decode_update(sub.payload))


def test_submission_is_signed_over_its_payload(make_trainer, round_task):
    trainer = make_trainer("trainer")
    sub = trainer.respond(round_task)
    verify_commitment(sub.signed, round_task.domain)
    c = sub.signed.commitment
    assert (c.task_id, c.round, c.trainer, c.samples, c.transcript_root) == (1, 1, trainer.address, 60, ZERO_ROOT)
    assert c.update_hash == update_hash(sub.payload) and sub.transcript is None


def test_training_is_reproducible(make_trainer, round_task):
    assert make_trainer("t").respond(round_task).payload == make_trainer("t").respond(round_task).payload


def test_it_sends_what_it_trained_from_the_global_model_on_its_own_data(make_trainer, round_task, kit):
    trainer = make_trainer("t")
    trained = trainer.train(round_task)
    assert torch.equal(sent(trainer.submit(round_task, trained), kit[2]), trained.update)
    assert not torch.equal(trained.update, make_trainer("t", start=60).train(round_task).update)  # other data


def test_data_order_is_bound_to_round_seed_and_address():
    a, b = "0x" + "01" * 20, "0x" + "02" * 20
    assert data_order_seed(b"\x01" * 32, a) != data_order_seed(b"\x01" * 32, b)
    assert data_order_seed(b"\x01" * 32, a) != data_order_seed(b"\x02" * 32, a)


def test_privacy_clips_and_noises_its_update(make_trainer, round_task, kit):
    plain, private = make_trainer("h"), make_trainer("h")
    private.privacy = ClientPrivacy(clip_norm=0.01, noise_multiplier=1e-6, expected_cohort=2)
    assert abs(float(sent(private.respond(round_task), kit[2]).norm()) - 0.01) < 1e-3
    assert float(sent(plain.respond(round_task), kit[2]).norm()) > 0.1


def test_under_proof_of_learning_it_commits_to_its_transcript_and_opens_it(make_trainer, round_task, kit):
    _, module, spec, _ = kit
    trainer = make_trainer("t")
    sub = trainer.respond(round_task, pol=POL)
    assert sub.transcript is not None and sub.signed.commitment.transcript_root == sub.transcript.root
    assert torch.equal(sent(sub, spec), trainer.recording.update)
    for reveal in trainer.reveal(round_task, [0, 1]):
        verdict = check_segment(reveal, sub.transcript, sub.signed.commitment, module=module, spec=spec,
                                cfg=trainer.training, global_params=round_task.global_params,
                                data_seed=trainer.data_seed(round_task), tolerance=POL.tolerance)
        assert verdict.passed


def test_a_transcript_needs_the_runs_checkpoints(make_trainer, round_task):
    trainer = make_trainer("t")
    with pytest.raises(ProtocolError, match="needs the training run's checkpoints"):
        trainer.submit(round_task, Trained(trainer.train(round_task).update), pol=POL)


def test_a_reveal_without_a_kept_transcript_is_refused(make_trainer, round_task):
    trainer = make_trainer("t")
    trainer.respond(round_task)
    with pytest.raises(ProtocolError, match="kept no transcript"):
        trainer.reveal(round_task, [0])
