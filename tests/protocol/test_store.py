"""A run directory's published artifacts: models stored under their keccak256 and tables
under their round, each re-checked when read back, whoever altered the file."""

import re

import pytest

from fedstake.chain.accounts import derive_account
from fedstake.chain.rewards_dump import dumps_rewards
from fedstake.errors import ArtifactError, FetchError
from fedstake.learn.models import ParamSpec, build_model, initial_parameters
from fedstake.proof.codec import model_hash, params_bytes
from fedstake.protocol.desk import Report
from fedstake.protocol.ledger import PublishedTable, RewardLedger
from fedstake.protocol.store import ArtifactStore, asks_name, is_published_name, model_name, scores_name, table_name

TOKEN = 10**18


@pytest.fixture
def store(tmp_path):
    return ArtifactStore(tmp_path)


@pytest.fixture(scope="module")
def model():
    """A global model as validators hash it: the genesis MLP's named tensors."""
    module = build_model("mlp", 64, 10)
    return ParamSpec.of(module).unflatten(initial_parameters(module, seed=0))


def settled(rounds: int = 2) -> PublishedTable:
    """A ledger's table after `rounds` rounds paying three trainers, as a validator publishes it."""
    ledger = RewardLedger()
    trainers = [derive_account(3, f"trainer-{i}").address for i in range(3)]
    for _ in range(rounds):
        ledger.credit({t: (i + 1) * 123 * TOKEN // 7 for i, t in enumerate(trainers)}, trainers[:2])
    return ledger.publish()


def test_a_model_is_stored_under_the_hash_the_chain_records(store, model):
    stored_as = store.put_model(params_bytes(model))
    assert stored_as == model_hash(model)
    assert (store.root / f"models/0x{stored_as.hex()}.safetensors").read_bytes() == params_bytes(model)
    assert store.get_model(stored_as) == params_bytes(model)


def test_a_model_altered_on_disk_is_refused(store, model):
    stored_as = store.put_model(params_bytes(model))
    path = store.root / model_name(stored_as)
    payload = bytearray(path.read_bytes())
    payload[-1] ^= 1
    path.write_bytes(payload)
    with pytest.raises(ArtifactError, match=f"{path}: the bytes hash to 0x[0-9a-f]+, not to the model hash 0x"):
        store.get_model(stored_as)


def test_a_model_not_in_the_store_is_named(store):
    with pytest.raises(FetchError, match="models/0x" + "ab" * 32 + ".safetensors: not in the store"):
        store.get_model(b"\xab" * 32)


def test_a_table_is_published_as_its_dump_and_reads_back_with_its_root(store):
    table = settled()
    path = store.put_table(2, table)
    assert path == store.root / "tables/round-2.json"
    assert path.read_text() == dumps_rewards(table.entries)
    loaded = store.get_table(2, root=table.root)
    assert loaded.entries == table.entries and loaded.root == table.root
    assert loaded.tree.nodes == table.tree.nodes


def test_a_table_that_is_not_the_one_the_chain_committed_to_is_refused(store):
    honest = settled(2)
    forged = settled(3)  # a well-formed table, consistently rebuilt, paying more
    store.put_table(2, forged)
    assert store.get_table(2).root == forged.root  # nothing inside it is wrong
    with pytest.raises(ArtifactError, match=f"its root 0x{forged.root.hex()} is not the expected root"):
        store.get_table(2, root=honest.root)


def test_a_table_altered_on_disk_is_refused(store):
    path = store.put_table(1, settled())
    path.write_text(path.read_text().replace('"treeIndex":4', '"treeIndex":3'))
    with pytest.raises(ArtifactError, match=f"{path}: values"):
        store.get_table(1)


def test_an_empty_table_is_not_published(store):
    with pytest.raises(ValueError, match="empty"):
        store.put_table(1, RewardLedger().publish())
    assert not (store.root / table_name(1)).exists()


def test_a_validators_score_vector_is_published_as_it_reported_it(store):
    validator, a, b = (derive_account(0, name).address for name in ("validator", "a", "b"))
    report = Report(validator, (a, b), {a: 0.625, b: 1 / 3}, {a: 40, b: 12})
    path = store.put_scores(2, report)
    assert path == store.root / scores_name(2) and is_published_name(scores_name(2))
    assert store.get_scores(2) == {"round": 2, "validator": validator, "scores": {a: 0.625, b: 1 / 3},
                                   "samples": {a: 40, b: 12}, "held": None}
    with pytest.raises(FetchError, match="not in the store"):
        store.get_scores(3)


@pytest.mark.parametrize("name", ["manifest.json", "tables/round-1.json", "tables/round-120.json", "scores/round-3.json",
                                  "asks/round-4.json",
                                  "models/0x" + "0f" * 32 + ".safetensors"])
def test_published_names(name):
    assert is_published_name(name)


@pytest.mark.parametrize("name", ["", "keys/validator.json", "trainer.json", "../manifest.json", "tables/round-0.json",
                                  "tables/round-01.json", "tables/../manifest.json", "manifest.json.tmp",
                                  "models/0x" + "0F" * 32 + ".safetensors", "models/0x1234.safetensors",
                                  "/manifest.json", ".manifest.json.abc.tmp", "scores/round-0.json", "scores/x.json"])
def test_anything_else_is_not_published(name):
    assert not is_published_name(name)


def test_names_refuse_impossible_rounds_and_hashes():
    with pytest.raises(ValueError, match="from 1"):
        table_name(0)
    with pytest.raises(ValueError, match="32 bytes"):
        model_name(b"\x01" * 20)


def test_the_asks_of_a_round_are_published_as_signed_and_read_back(store):
    from fedstake.chain.eip712 import Domain
    from fedstake.protocol.asks import Ask, sign_ask

    domain, trainer = Domain("fedstake", "1", 31337, "0x" + "ab" * 20), derive_account(0, "trainer")
    signed = [sign_ask(Ask(1, trainer.address, 3 * TOKEN + 1, 40, 1, 9), domain, trainer)]
    path = store.put_asks(2, signed)
    assert path == store.root / asks_name(2) and is_published_name(asks_name(2))
    assert '"price": "3000000000000000001"' in path.read_text()  # above 2**53: a decimal string, for JS readers
    assert store.get_asks(2) == signed


@pytest.mark.parametrize("doc, where", [
    ('{"round": 2}', "asks: not a list"),
    ('{"asks": [{"task_id": "1"}]}', "asks[0]: not a signed ask"),
    ('{"asks": [{"task_id": "1", "trainer": "0x", "price": "x", "samples": "1", "first_round": "1", '
     '"last_round": "1", "signature": "0x"}]}', "asks[0]: not a signed ask"),
])
def test_a_malformed_asks_file_is_refused_naming_the_entry(store, doc, where):
    (store.root / "asks").mkdir()
    (store.root / asks_name(2)).write_text(doc)
    with pytest.raises(ArtifactError, match=re.escape(where)):
        store.get_asks(2)
