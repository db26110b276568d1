"""The protocol's messages survive the trip through Flower records, and what can be checked is."""

import dataclasses

import pytest
import torch
from eth_utils import keccak
from flwr.app import ConfigRecord

from fedstake.chain.accounts import derive_account
from fedstake.chain.market import RoundResult
from fedstake.deploy.federation.wire import (
    model_bytes, read_report, read_sealed_submission, read_summary, read_task, report_doc, sealed_submission,
    summary_doc, task_record,
)
from fedstake.errors import ProtocolError
from fedstake.proof.sealing import open_sealed, public_key, seal
from fedstake.protocol.desk import Report, RoundSummary
from fedstake.protocol.ledger import RewardLedger
from fedstake.protocol.scoring import RoundRewards
from fedstake.protocol.trainer import Trainer
from fedstake.protocol.validator import Rejection

VALIDATOR = derive_account(0, "validator")


def test_a_task_comes_back_whole_and_its_model_is_checked_against_its_hash(kit, round_task):
    spec = kit[2]
    model = model_bytes(spec, round_task.global_params)
    task = dataclasses.replace(round_task, model_hash=keccak(model), previous_change=round_task.global_params * 0.5)
    back = read_task(task_record(task, spec), spec, task.domain)
    assert (back.task_id, back.round, back.round_seed, back.model_hash) == (1, 1, task.round_seed, keccak(model))
    assert torch.equal(back.global_params, task.global_params) and torch.equal(back.previous_change,
                                                                               task.previous_change)
    record = task_record(task, spec)
    swapped = ConfigRecord({**record, "model": model_bytes(spec, task.global_params + 1)})
    with pytest.raises(ProtocolError, match="does not hash to"):
        read_task(swapped, spec, task.domain)


def test_a_sealed_submission_travels_and_opens_for_its_validator(kit, round_task, trainer_fields):
    spec = kit[2]
    task = dataclasses.replace(round_task, model_hash=keccak(model_bytes(spec, round_task.global_params)))
    submission = Trainer(**trainer_fields("trainer")).respond(task)
    record = sealed_submission(submission.signed, seal(submission.payload, {VALIDATOR.address: public_key(VALIDATOR)}))
    assert submission.payload not in bytes(record["ciphertext"])
    signed, sealed = read_sealed_submission(record)
    assert signed == submission.signed and open_sealed(sealed, VALIDATOR) == submission.payload


def test_reports_and_summaries_round_trip_exactly():
    report = Report("0xV", ("0xA", "0xB"), {"0xA": 0.123456789, "0xB": -1e-300}, {"0xA": 60, "0xB": 7}, None)
    assert read_report(report_doc(report)) == report
    ledger, a, b = RewardLedger(), derive_account(0, "a").address, derive_account(0, "b").address
    ledger.credit({a: 2**70 + 1, b: 5}, accepted=[a])
    table = ledger.preview()
    rewards = RoundRewards(("0xA",), {"0xV": [0.5]}, {"0xA": 0.5}, {"0xV": 1.0}, {"0xA": 1.0}, {"0xA": 2**70},
                           {"0xV": 3}, b"\x01" * 32)
    summary = RoundSummary(("0xA",), (Rejection("0xB", "1 NaN/Inf values"),), None,
                           RoundResult(b"\x02" * 32, b"\x03" * 32, table.root, table.total, b"\x01" * 32), rewards,
                           ledger.table(), table)
    back = read_summary(summary_doc(summary))
    assert back.table.root == table.root and back.table.entries == table.entries
    assert dataclasses.replace(back, table=None) == dataclasses.replace(summary, table=None)
    unsettled = read_summary(summary_doc(dataclasses.replace(summary, table=None)))
    assert unsettled.table is None
