"""A minted model whose contributors voted its price, and the payer that settles its fees."""

import pytest
import torch

from deployers import TOKEN, fund, minted_model
from fedstake.chain.accounts import derive_account
from fedstake.chain.governance import licence_hash
from fedstake.learn.models import LogReg
from fedstake.proof.codec import encode_update, model_hash
from fedstake.serve.chain import ServedTask
from fedstake.serve.model import load_model

CONTRIBUTORS = [derive_account(5, f"contributor-{i}") for i in range(2)]
SHARES = {CONTRIBUTORS[0].address: (1 * TOKEN, 1), CONTRIBUTORS[1].address: (3 * TOKEN, 1)}  # 1 : 3
PRICE = 1_000  # base units per query
KEYS = {"key-lab": "lab", "key-clinic": "clinic"}


@pytest.fixture
def model_file(tmp_path):
    torch.manual_seed(0)
    tensors = {name: p.detach().clone() for name, p in LogReg(64, 10).named_parameters()}
    path = tmp_path / "model.safetensors"
    path.write_bytes(encode_update(tensors))
    return path, model_hash(tensors)


@pytest.fixture
def served(system, actors, model_file):
    """The model minted for a task, its price voted (PRICE), and a payer that approved the fees."""
    path, digest = model_file
    task_id, splitter, rewards = minted_model(system, actors, SHARES, model_hash=digest)
    gov = system.governance
    proposal = gov.propose(task_id, price=PRICE, licence_uri="ipfs://licence", licence_hash=licence_hash(b"L"),
                           sender=actors.requester)
    gov.vote(proposal, True, *rewards.ticket(CONTRIBUTORS[1].address), sender=CONTRIBUTORS[1])
    system.backend.advance_time(system.params.gov_voting_period + system.params.gov_timelock)
    gov.execute(proposal, sender=actors.outsider)
    payer = actors.outsider
    fund(system, payer, 10**9)
    system.token.approve(splitter.address, 10**9, sender=payer)
    task = ServedTask(system.models, gov, task_id, payer)
    return task, load_model(path, expected_hash=task.model_hash, task_id=task_id), rewards
