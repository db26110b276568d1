import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from fedstake.learn.cohort import _batch_grid, _vmapped_step, train_cohort
from fedstake.learn.linear_stack import linear_layers, linear_stack_step
from fedstake.learn.models import ParamSpec, build_model, initial_parameters
from fedstake.learn.train import LocalTraining, batch_order, sample_order, steps_per_round


def _stack(module, spec, params, clients):
    flat = params.expand(clients, -1).clone()
    return {name: p.clone(memory_format=torch.contiguous_format) for name, p in spec.unflatten(flat).items()}


def test_only_declared_linear_stacks_with_exactly_their_parameters_take_the_hand_derived_path():
    for name, layers in (("logreg", ("linear",)), ("mlp", ("fc1", "fc2")), ("cnn", None)):
        module = build_model(name, 64, 10)
        assert linear_layers(module, ParamSpec.of(module)) == layers

    class Pretender(nn.Module):  # claims to be a linear stack but carries another parameter
        linear_stack = ("fc",)

        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 2)
            self.scale = nn.Parameter(torch.ones(1))

    module = Pretender()
    assert linear_layers(module, ParamSpec.of(module)) is None


@settings(max_examples=40, deadline=None)
@given(model=st.sampled_from(["logreg", "mlp"]), clients=st.integers(1, 5), batch=st.integers(1, 9),
       mu=st.sampled_from([0.0, 0.3]), seed=st.integers(0, 2**31 - 1))
def test_the_hand_derived_step_is_the_vmapped_step(model, clients, batch, mu, seed):
    generator = torch.Generator().manual_seed(seed)
    module = build_model(model, 6, 3)
    spec = ParamSpec.of(module)
    anchor = initial_parameters(module, seed=seed % 1000)
    start = anchor + 0.1 * torch.randn(spec.size, generator=generator)
    x = torch.randn(clients, batch, 6, generator=generator)
    y = torch.randint(3, (clients, batch), generator=generator)
    weight = (torch.rand(clients, batch, generator=generator) < 0.7).float()
    weight[0] = 0  # a client whose batch is all padding: no loss and no proximal pull move it
    cfg = LocalTraining(epochs=1, batch_size=batch, learning_rate=0.2, proximal_mu=mu)
    with torch.no_grad():
        expected = _vmapped_step(module, spec, cfg)(_stack(module, spec, start, clients), x, y, weight, anchor)
        got = linear_stack_step(linear_layers(module, spec), spec, cfg)(_stack(module, spec, start, clients),
                                                                        x, y, weight, anchor)
    for name in spec.names:
        assert (got[name] - expected[name]).abs().max() < 1e-6, name
    assert torch.equal(spec.flatten(got)[0], start)  # the all-padding client stayed put


def test_training_in_place_leaves_the_global_model_alone():
    module = build_model("mlp", 64, 10)
    spec, params = ParamSpec.of(module), initial_parameters(module, seed=0)
    before = params.clone()
    data = [(torch.rand(9, 64), torch.randint(10, (9,)))]
    train_cohort(module, spec, params, data, LocalTraining(2, 4, 0.1), seeds=[1], chunk_size=1)
    assert torch.equal(params, before)


@settings(max_examples=40, deadline=None)
@given(sizes=st.lists(st.integers(1, 23), min_size=1, max_size=5), epochs=st.integers(1, 3),
       batch=st.integers(1, 8), seed=st.integers(0, 2**31 - 1))
def test_the_batch_grid_lays_out_each_clients_batches_in_order(sizes, epochs, batch, seed):
    cfg = LocalTraining(epochs=epochs, batch_size=batch, learning_rate=0.1)
    orders = [sample_order(n, cfg, seed=seed + c) for c, n in enumerate(sizes)]
    index, weight = _batch_grid(orders, sizes, cfg)
    offset = 0
    for c, n in enumerate(sizes):
        batches = batch_order(n, cfg, seed=seed + c)
        assert len(batches) == steps_per_round(n, cfg)
        for t in range(index.shape[1]):
            real = index[c, t][weight[c, t] > 0]
            expected = batches[t] + offset if t < len(batches) else torch.empty(0, dtype=torch.long)
            assert torch.equal(real, expected)
        offset += n
