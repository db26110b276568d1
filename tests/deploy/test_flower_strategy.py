"""FedstakeStrategy: its aggregation equals the fedstake rule's, its screening drops what it must.

Replies are real Flower Messages answering the strategy's own
configure_train messages; the only stand-in is the Grid, of which
FedAvg's sampling reads the node ids alone.
"""

import pytest
import torch
from flwr.app import ArrayRecord, ConfigRecord, Error, Message, MetricRecord, RecordDict
from hypothesis import given, settings
from hypothesis import strategies as st

from fedstake.deploy.flower import FedstakeStrategy
from fedstake.deploy.flower.arrays import combine, to_record, to_tensors, update_payload
from fedstake.errors import ConfigError, LearningError, ProtocolError
from fedstake.learn.aggregators import AGGREGATOR_NAMES, make_aggregator
from fedstake.learn.attacks import huge_norm, nan_update, wrong_shape
from fedstake.learn.models import ParamSpec
from fedstake.proof.codec import update_hash

SPEC = ParamSpec(("fc1.weight", "fc1.bias", "fc2.weight"), ((4, 3), (4,), (2, 4)))
NODES = [907, 13, 4242, 58, 300, 71, 1999]  # 7 nodes: enough for Bulyan with f = 1 (n >= 4f + 3)
PARAMS = {"trimmed-mean": {"trim-fraction": 0.2}, "multi-krum": {"multi-krum-selected": 3},
          "norm-bound": {"norm-bound": 0.5}, "fedadam": {"server-learning-rate": 0.1}}

pytestmark = pytest.mark.usefixtures("serverapp_identity")


class NodeList:
    """The one Grid call FedAvg's sampling makes; nothing is ever sent through it."""

    def __init__(self, ids):
        self.ids = ids

    def get_node_ids(self):
        return list(self.ids)


def _strategy(name="fedavg", params=None, **kwargs):
    """Sampling every node, however few: FedAvg's defaults would wait for a second node forever."""
    return FedstakeStrategy(name, params, min_train_nodes=1, min_evaluate_nodes=1, min_available_nodes=1, **kwargs)


def _global(seed=0):
    return SPEC.unflatten(torch.randn(SPEC.size, generator=torch.Generator().manual_seed(seed)))


def _updates(n, seed=1, scale=0.1):
    g = torch.Generator().manual_seed(seed)
    return [SPEC.unflatten(scale * torch.randn(SPEC.size, generator=g)) for _ in range(n)]


def _start(strategy, global_named, nodes=NODES, server_round=1):
    """configure_train's messages, one per node, keyed by destination node."""
    messages = strategy.configure_train(server_round, to_record(global_named), ConfigRecord(), NodeList(nodes))
    return {m.metadata.dst_node_id: m for m in messages}


def _reply(instruction, model, samples, **claim):
    content = RecordDict({"arrays": to_record(model), "metrics": MetricRecord({"num-examples": samples})})
    if claim:
        content["fedstake"] = ConfigRecord(claim)
    return Message(content, reply_to=instruction)


def _models(global_named, updates):
    return [combine(global_named, u) for u in updates]


def _expected(name, global_named, models, samples, *, root=None):
    """What calling the fedstake rule directly gives, updates in node-id order."""
    global_flat = SPEC.flatten(global_named)
    flat = torch.stack([SPEC.flatten(m) - global_flat for m in models])
    agg = make_aggregator(name, PARAMS.get(name))
    return global_flat + agg(flat, torch.tensor(samples, dtype=torch.float32), root_update=root)


def _root_train_fn(root_model):
    return lambda server_round, arrays: to_record(root_model)


@pytest.mark.parametrize("name", AGGREGATOR_NAMES)
def test_every_rule_aggregates_as_the_fedstake_rule_called_directly(name):
    global_named = _global()
    models = _models(global_named, _updates(len(NODES)))
    samples = [10 + 7 * i for i in range(len(NODES))]
    root_model = _models(global_named, _updates(1, seed=9))[0]
    strategy = _strategy(name, PARAMS.get(name), root_train_fn=_root_train_fn(root_model))
    messages = _start(strategy, global_named)
    by_node = sorted(zip(NODES, models, samples))
    replies = [_reply(messages[node], model, n) for node, model, n in reversed(by_node)]
    arrays, metrics = strategy.aggregate_train(1, replies)
    root = SPEC.flatten(root_model) - SPEC.flatten(global_named) if name == "fltrust" else None
    expected = _expected(name, global_named, [m for _, m, _ in by_node], [n for _, _, n in by_node], root=root)
    torch.testing.assert_close(SPEC.flatten(to_tensors(arrays)), expected, rtol=0, atol=1e-6)
    assert metrics["screening.accepted"] == len(NODES) and metrics["screening.rejected"] == 0


def test_server_optimiser_state_carries_across_rounds_as_in_the_rule():
    strategy, rule = _strategy("fedavgm"), make_aggregator("fedavgm")
    global_named = _global()
    for server_round in (1, 2):
        messages = _start(strategy, global_named, NODES[:3], server_round)
        models = _models(global_named, _updates(3, seed=server_round))
        replies = [_reply(messages[node], m, 5) for node, m in zip(NODES[:3], models)]
        arrays, _ = strategy.aggregate_train(server_round, replies)
        order = sorted(range(3), key=lambda i: NODES[i])
        flat = torch.stack([SPEC.flatten(models[i]) - SPEC.flatten(global_named) for i in order])
        expected = SPEC.flatten(global_named) + rule(flat, torch.full((3,), 5.0))
        torch.testing.assert_close(SPEC.flatten(to_tensors(arrays)), expected, rtol=0, atol=1e-6)
        global_named = to_tensors(arrays)


@given(order=st.permutations(range(5)), seed=st.integers(0, 2**16))
@settings(max_examples=15)
def test_the_result_does_not_depend_on_the_order_replies_arrive_in(order, seed):
    global_named = _global(seed)
    models = _models(global_named, _updates(5, seed=seed + 1))
    results = []
    for arrival in (range(5), order):
        strategy = _strategy("trimmed-mean", {"trim-fraction": 0.2})
        messages = _start(strategy, global_named, NODES[:5])
        arrays, _ = strategy.aggregate_train(1, [_reply(messages[NODES[i]], models[i], 3 + i) for i in arrival])
        results.append(SPEC.flatten(to_tensors(arrays)))
    assert torch.equal(results[0], results[1])


def _malformed(global_named):
    """node -> (the model it sends, extra claim, the reason screening must give)."""
    honest = _updates(4, seed=5)
    bad = {"fc1.weight": global_named["fc1.weight"].double() + honest[3]["fc1.weight"].double()}
    return {
        NODES[0]: (nan_update(_models(global_named, [honest[0]])[0]), {}, "NaN/Inf"),
        NODES[1]: (_models(global_named, [wrong_shape(honest[1])])[0], {},
                   "fc1.weight: shape (3, 3) instead of (4, 3)"),
        NODES[2]: (_models(global_named, [huge_norm(honest[2])])[0], {}, "above bound 20"),
        NODES[3]: ({**_models(global_named, [honest[3]])[0], **bad}, {}, "fc1.weight: dtype torch.float64"),
        NODES[4]: (_models(global_named, [honest[3]])[0], {"update-hash": b"\x00" * 32}, "update hash does not match"),
    }


def test_malformed_replies_are_dropped_with_their_reasons_and_the_rest_aggregated():
    global_named = _global()
    strategy = _strategy("median")
    messages = _start(strategy, global_named)
    bad = _malformed(global_named)
    good = dict(zip(NODES[5:], _models(global_named, _updates(2, seed=6))))
    replies = [_reply(messages[node], model, 10, **claim) for node, (model, claim, _) in bad.items()]
    replies += [_reply(messages[node], model, 10) for node, model in good.items()]
    arrays, metrics = strategy.aggregate_train(1, replies)
    reasons = {r.node_id: r.reason for r in strategy.rejections}
    assert set(reasons) == set(bad)
    for node, (_, _, reason) in bad.items():
        assert reason in reasons[node]
    assert all(r.server_round == 1 for r in strategy.rejections)
    assert (metrics["screening.accepted"], metrics["screening.rejected"]) == (2, 5)
    expected = _expected("median", global_named, [good[n] for n in sorted(good)], [10, 10])
    torch.testing.assert_close(SPEC.flatten(to_tensors(arrays)), expected, rtol=0, atol=1e-6)


@pytest.mark.parametrize("metrics, reason", [
    ({"num-examples": 0}, "claims 0 samples"),
    ({"num-examples": 2.5}, "'num-examples' must be a whole number"),
    ({"loss": 1.0}, "'num-examples' must be a whole number, got None"),
])
def test_a_reply_without_a_positive_whole_sample_count_is_rejected(metrics, reason):
    global_named = _global()
    strategy = _strategy("fedavg")
    message = _start(strategy, global_named, NODES[:1])[NODES[0]]
    content = RecordDict({"arrays": to_record(_models(global_named, _updates(1))[0]), "metrics": MetricRecord(metrics)})
    arrays, out = strategy.aggregate_train(1, [Message(content, reply_to=message)])
    assert arrays is None and out["screening.rejected"] == 1
    assert reason in strategy.rejections[0].reason


def test_a_correct_claimed_hash_is_accepted():
    global_named = _global()
    model = _models(global_named, _updates(1))[0]
    strategy = _strategy("fedavg")
    message = _start(strategy, global_named, NODES[:1])[NODES[0]]
    claim = {"update-hash": update_hash(update_payload(model, global_named))}
    _, metrics = strategy.aggregate_train(1, [_reply(message, model, 4, **claim)])
    assert metrics["screening.accepted"] == 1 and not strategy.rejections


def test_error_replies_are_failures_not_rejections_and_all_rejected_keeps_the_model():
    global_named = _global()
    strategy = _strategy("krum", {"assumed-malicious": 0})
    messages = _start(strategy, global_named, NODES[:2])
    nan_model = nan_update(_models(global_named, _updates(1))[0])
    replies = [Message(Error(code=0, reason="node crashed"), reply_to=messages[NODES[0]]),
               _reply(messages[NODES[1]], nan_model, 5)]
    arrays, metrics = strategy.aggregate_train(1, replies)
    assert arrays is None
    assert dict(metrics) == {"screening.accepted": 0, "screening.rejected": 1, "aggregator.assumed-malicious": 0,
                             "aggregator.attacker-share": 0.3}
    assert [r.node_id for r in strategy.rejections] == [NODES[1]]


def test_the_aggregator_parameters_are_in_the_metrics_and_client_metrics_are_averaged():
    global_named = _global()
    strategy = _strategy("trimmed-mean", {"trim-fraction": 0.25})
    messages = _start(strategy, global_named, NODES[:4])
    replies = []
    for i, (node, model) in enumerate(zip(NODES[:4], _models(global_named, _updates(4)))):
        content = RecordDict({"arrays": to_record(model),
                              "metrics": MetricRecord({"num-examples": 10, "train-loss": float(i)})})
        replies.append(Message(content, reply_to=messages[node]))
    _, metrics = strategy.aggregate_train(1, replies)
    assert metrics["aggregator.trim-fraction"] == 0.25 and metrics["train-loss"] == pytest.approx(1.5)


def test_metrics_that_do_not_average_are_left_out_but_the_model_is_still_aggregated():
    global_named = _global()
    strategy = _strategy("fedavg")
    messages = _start(strategy, global_named, NODES[:2])
    losses = [{"train-loss": [1.0, 2.0]}, {"train-loss": 3.0}]
    models = _models(global_named, _updates(2))
    replies = [Message(RecordDict({"arrays": to_record(m), "metrics": MetricRecord({"num-examples": 4, **loss})}),
                       reply_to=messages[n]) for n, m, loss in zip(NODES[:2], models, losses)]
    arrays, metrics = strategy.aggregate_train(1, replies)
    assert arrays is not None and "train-loss" not in metrics and metrics["screening.accepted"] == 2


def test_evaluation_replies_that_do_not_average_skip_the_rounds_metrics_instead_of_ending_the_run():
    strategy = _strategy("fedavg")
    messages = strategy.configure_evaluate(1, to_record(_global()), ConfigRecord(), NodeList(NODES[:2]))
    contents = [{"num-examples": 3, "eval-accuracy": 0.5}, {"eval-accuracy": 0.7}]
    replies = [Message(RecordDict({"metrics": MetricRecord(c)}), reply_to=m) for m, c in zip(messages, contents)]
    assert strategy.aggregate_evaluate(1, replies) is None
    good = [Message(RecordDict({"metrics": MetricRecord(contents[0])}), reply_to=m) for m in messages]
    assert strategy.aggregate_evaluate(1, good)["eval-accuracy"] == pytest.approx(0.5)


def test_a_sign_flipper_drags_fedavg_backwards_but_not_the_median():
    """Two honest nodes agree; a third sends -4 x their update (fedstake's sign-flip default)."""
    global_named = _global()
    honest = _updates(1, seed=3)[0]
    near = [{k: v * s for k, v in honest.items()} for s in (1.0, 1.1)]
    flipped = {k: -4 * v for k, v in honest.items()}
    direction = SPEC.flatten(honest)
    moved = {}
    for name in ("fedavg", "median"):
        strategy = _strategy(name)
        messages = _start(strategy, global_named, NODES[:3])
        models = _models(global_named, [*near, flipped])
        arrays, _ = strategy.aggregate_train(1, [_reply(messages[n], m, 10) for n, m in zip(NODES[:3], models)])
        moved[name] = SPEC.flatten(to_tensors(arrays)) - SPEC.flatten(global_named)
    assert torch.dot(moved["fedavg"], direction) < 0 < torch.dot(moved["median"], direction)


def test_a_round_the_rule_cannot_aggregate_keeps_the_global_model():
    """Krum with f = 1 needs 5 updates; screening leaves 3 of 4."""
    global_named = _global()
    strategy = _strategy("krum", {"assumed-malicious": 1})
    messages = _start(strategy, global_named, NODES[:4])
    models = _models(global_named, _updates(4))
    models[0] = nan_update(models[0])
    arrays, metrics = strategy.aggregate_train(1, [_reply(messages[n], m, 5) for n, m in zip(NODES[:4], models)])
    assert arrays is None and (metrics["screening.accepted"], metrics["screening.rejected"]) == (3, 1)


def test_fltrust_without_a_root_training_function_is_refused():
    with pytest.raises(ConfigError, match="task.aggregator: fltrust needs root_train_fn"):
        FedstakeStrategy("fltrust")


def test_a_root_model_of_another_layout_is_refused():
    global_named = _global()
    strategy = _strategy("fltrust", root_train_fn=_root_train_fn({"w": torch.zeros(3)}))
    messages = _start(strategy, global_named, NODES[:2])
    replies = [_reply(messages[n], m, 5) for n, m in zip(NODES[:2], _models(global_named, _updates(2)))]
    with pytest.raises(LearningError, match="root_train_fn returned arrays"):
        strategy.aggregate_train(1, replies)


@pytest.mark.parametrize("kwargs, match", [
    ({"aggregator": "fedprox"}, "task.aggregator: unknown aggregator"),
    ({"aggregator": "krum", "params": {"trim-fraction": 0.1}}, "aggregator.trim-fraction"),
    ({"max_norm": 0.0}, "screening.max-norm: must be positive"),
])
def test_bad_settings_are_config_errors(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        FedstakeStrategy(**kwargs)


def test_a_float64_model_is_refused_before_any_node_trains():
    strategy = _strategy("fedavg")
    record = ArrayRecord({"w": torch.zeros(3, dtype=torch.float64)})
    with pytest.raises(LearningError, match="float32 models; array 'w' is torch.float64"):
        strategy.configure_train(1, record, ConfigRecord(), NodeList(NODES))


def test_aggregating_before_configuring_is_a_protocol_error():
    with pytest.raises(ProtocolError, match="before configure_train"):
        FedstakeStrategy("fedavg").aggregate_train(1, [])
