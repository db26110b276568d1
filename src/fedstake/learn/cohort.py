"""A whole cohort's local training at once, with torch.func.

Simulating a round means training many small models on small data, and
one `local_train` after another spends its time in Python and in tiny
kernels. Here every parameter tensor gets a leading client dimension and
each SGD step is one batched step over the clients: for linear stacks
(logreg, MLP) gradients derived by hand with the update fused in place
(`linear_stack`), for any other module `vmap(grad(loss))`.

Clients hold different amounts of data, so they take different numbers
of steps and their last batch of each epoch is short. Every client's own
`sample_order(n, cfg, seed=...)` is laid out on a common (steps x batch)
grid; a 0/1 weight drops padded samples from the loss (which stays the
mean over the real batch), and a client with no real sample left in a
step has a zero loss, hence a zero gradient, and stays put. The result is
`local_train`'s, client by client, up to float rounding.

Clients are sorted by step count before they are cut into chunks, so a
chunk pads to similar sizes and memory stays bounded for any cohort.
Parameters stay a dict of stacked tensors during training (gradients of
slices of one flat vector would each allocate a full-size zero tensor).

Checkpoints are opt-in as in `local_train`: `on_checkpoint(client, step,
params)` sees each client's parameters at its own checkpoint steps, so a
caller can hash them and keep nothing else (1,000 trainers x 31
checkpoints of the digits MLP would be 600 MB). A client's checkpoints
are bit for bit the same whenever it is trained in the same chunk with
the same companions; a chunk of one may differ from a larger chunk in the
last bits (the CNN's batched kernels), so to re-derive a checkpoint a
trainer re-runs the same cohort call.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn
from torch.func import functional_call, grad, vmap
from torch.nn.functional import cross_entropy, pad

from fedstake.errors import LearningError
from fedstake.learn.linear_stack import linear_layers, linear_stack_step
from fedstake.learn.models import ParamSpec
from fedstake.learn.train import (LocalTraining, checkpoint_steps, checkpointing, proximal_term, sample_order,
                                  steps_per_round)

SAMPLES_PER_STEP = 8192  # default chunk: clients x batch size in flight per step

Params = dict[str, torch.Tensor]
Step = Callable[[Params, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor], Params]
CohortRecorder = Callable[[int, int, torch.Tensor], None]  # (client, step, that client's parameters)
Observer = Callable[[int, Params], None]  # (grid step, the chunk's parameters after it)


def train_cohort(
    module: nn.Module,
    spec: ParamSpec,
    global_params: torch.Tensor,
    datasets: Sequence[tuple[torch.Tensor, torch.Tensor]],
    cfg: LocalTraining,
    *,
    seeds: Sequence[int],
    chunk_size: int | None = None,
    checkpoint_every: int | None = None,
    on_checkpoint: CohortRecorder | None = None,
) -> torch.Tensor:
    """Every client's new parameters (clients x params), as `local_train` with its seed.

    `datasets` are (x, y) pairs, so a caller may pass already-transformed
    labels (a label-flipping attacker). `chunk_size` caps the clients trained
    together; by default SAMPLES_PER_STEP // batch_size. With
    `checkpoint_every`, `on_checkpoint(client, step, params)` gets a copy of
    client `client`'s parameters at each of its checkpoint steps.
    """
    _check(datasets, seeds, chunk_size)
    checkpointing(checkpoint_every, on_checkpoint)
    orders = [sample_order(len(y), cfg, seed=seed) for (_, y), seed in zip(datasets, seeds)]
    steps = [steps_per_round(len(y), cfg) for _, y in datasets]
    by_steps = sorted(range(len(datasets)), key=lambda c: steps[c])
    size = chunk_size or max(1, SAMPLES_PER_STEP // cfg.batch_size)
    layers = linear_layers(module, spec)
    step = linear_stack_step(layers, spec, cfg) if layers else _vmapped_step(module, spec, cfg)
    anchor = global_params.detach()
    out = torch.empty(len(datasets), spec.size, dtype=anchor.dtype)
    for start in range(0, len(by_steps), size):
        members = by_steps[start : start + size]
        chunk = [datasets[c] for c in members]
        observe = _observer(members, [steps[c] for c in members], spec, checkpoint_every, on_checkpoint)
        trained = _train_chunk(step, anchor, spec, chunk, [orders[c] for c in members], cfg, observe)
        out[members] = spec.flatten(trained)
    return out


def _observer(members: list[int], steps: list[int], spec: ParamSpec, every: int | None,
              on_checkpoint: CohortRecorder | None) -> Observer | None:
    """Hands each member's parameters to `on_checkpoint` at its own checkpoint steps (copies, not views
    of the chunk, so a recorder that keeps one does not keep the whole chunk alive)."""
    if every is None or on_checkpoint is None:
        return None
    wanted = [set(checkpoint_steps(n, every)) for n in steps]

    def observe(t: int, params: Params) -> None:
        rows = [r for r, w in enumerate(wanted) if t in w]
        if rows:
            flat = spec.flatten({name: p[rows] for name, p in params.items()})
            for r, row in zip(rows, flat):
                on_checkpoint(members[r], t, row.clone())

    return observe


def _check(datasets: Sequence[tuple[torch.Tensor, torch.Tensor]], seeds: Sequence[int], chunk_size: int | None) -> None:
    if len(seeds) != len(datasets):
        raise LearningError(f"train_cohort needs one seed per client: {len(datasets)} clients, {len(seeds)} seeds")
    if chunk_size is not None and chunk_size < 1:
        raise LearningError(f"chunk_size must be at least 1, got {chunk_size}")
    for c, (x, y) in enumerate(datasets):
        if len(y) == 0 or len(x) != len(y):
            raise LearningError(f"client {c} has {len(x)} inputs and {len(y)} labels; need as many, at least one")


def _vmapped_step(module: nn.Module, spec: ParamSpec, cfg: LocalTraining) -> Step:
    """One SGD step for a stack of clients; `weight` is 1 for real samples, 0 for padding."""

    def loss(params: Params, x: torch.Tensor, y: torch.Tensor, weight: torch.Tensor,
             anchor: torch.Tensor) -> torch.Tensor:
        real = weight.sum()
        per_sample = cross_entropy(functional_call(module, params, (x,)), y, reduction="none")
        value = (per_sample * weight).sum() / real.clamp(min=1)
        if cfg.proximal_mu == 0:
            return value
        return value + (real > 0).to(value.dtype) * proximal_term(spec.flatten(params), anchor, cfg)

    gradients = vmap(grad(loss), in_dims=(0, 0, 0, 0, None))

    def step(params, x, y, weight, anchor):
        grads = gradients(params, x, y, weight, anchor)
        return {name: p - cfg.learning_rate * grads[name] for name, p in params.items()}

    return step


def _train_chunk(step: Step, anchor: torch.Tensor, spec: ParamSpec, chunk: list[tuple[torch.Tensor, torch.Tensor]],
                 orders: list[torch.Tensor], cfg: LocalTraining, observe: Observer | None = None) -> Params:
    x_all = torch.cat([x for x, _ in chunk])
    y_all = torch.cat([y for _, y in chunk])
    index, weight = _batch_grid(orders, [len(y) for _, y in chunk], cfg)
    params = {name: p.clone(memory_format=torch.contiguous_format)  # own storage: steps update in place
              for name, p in spec.unflatten(anchor.expand(len(chunk), -1)).items()}
    with torch.no_grad():
        if observe:
            observe(0, params)
        for t in range(index.shape[1]):
            params = step(params, x_all[index[:, t]], y_all[index[:, t]], weight[:, t], anchor)
            if observe:
                observe(t + 1, params)
    return params


def _batch_grid(orders: list[torch.Tensor], sizes: list[int], cfg: LocalTraining) -> tuple[torch.Tensor, ...]:
    """(clients x steps x batch) row indices into the chunk's data, and the 0/1 sample weights.

    Client c's q-th sample in its `sample_order` belongs to epoch q // n, hence (as `batch_order`
    cuts each epoch every batch_size) to step (q // n) * ceil(n / batch_size) + (q % n) // batch_size
    and slot (q % n) % batch_size. The whole chunk is laid out in a dozen tensor operations, not one
    per batch, so a round of 100 small clients spends its time training, not indexing.
    """
    batch = cfg.batch_size
    n = torch.tensor(sizes)
    lengths = n * cfg.epochs
    client = torch.repeat_interleave(torch.arange(len(sizes)), lengths)
    q = torch.arange(int(lengths.sum())) - torch.repeat_interleave(lengths.cumsum(0) - lengths, lengths)
    size = n[client]
    within = q % size
    step = (q // size) * ((size + batch - 1) // batch) + within // batch
    steps = max(steps_per_round(s, cfg) for s in sizes)
    index = torch.full((len(sizes) * steps * batch,), -1, dtype=torch.long)
    index[(client * steps + step) * batch + within % batch] = torch.cat(orders) + (n.cumsum(0) - n)[client]
    index = index.view(len(sizes), steps, batch)
    return index.clamp(min=0), (index >= 0).to(torch.float32)
