"""Models and the flat parameter vectors the protocol moves around.

Training, aggregation and hashing all work on one flat float32 vector
per model; `ParamSpec` records the names and shapes that turn it back
into named tensors (for safetensors and for `functional_call`).
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod

import torch
from torch import nn

from fedstake.errors import ConfigError


@dataclass(frozen=True)
class ParamSpec:
    """Names, shapes and dtype of a model's parameters, in a fixed order."""

    names: tuple[str, ...]
    shapes: tuple[tuple[int, ...], ...]
    dtype: torch.dtype = torch.float32

    @classmethod
    def of(cls, module: nn.Module) -> ParamSpec:
        named = list(module.named_parameters())
        return cls(tuple(n for n, _ in named), tuple(tuple(p.shape) for _, p in named))

    @property
    def size(self) -> int:
        return sum(prod(s) for s in self.shapes)

    def unflatten(self, flat: torch.Tensor) -> dict[str, torch.Tensor]:
        out, offset = {}, 0
        for name, shape in zip(self.names, self.shapes):
            n = prod(shape)
            out[name] = flat[..., offset : offset + n].reshape(*flat.shape[:-1], *shape)
            offset += n
        return out

    def flatten(self, tensors: dict[str, torch.Tensor]) -> torch.Tensor:
        """The inverse of `unflatten`, leading batch dimensions included."""
        parts = []
        for name, shape in zip(self.names, self.shapes):
            tensor = tensors[name]
            parts.append(tensor.reshape(*tensor.shape[: tensor.ndim - len(shape)], -1))
        return torch.cat(parts, dim=-1)


class LogReg(nn.Module):
    """Multinomial logistic regression: the convex model of the FedProx benchmarks."""

    linear_stack = ("linear",)  # linear layers, ReLU between: cohort training derives their gradients by hand

    def __init__(self, num_features: int, num_classes: int) -> None:
        super().__init__()
        self.linear = nn.Linear(num_features, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x)


class MLP(nn.Module):
    linear_stack = ("fc1", "fc2")  # see LogReg

    def __init__(self, num_features: int, num_classes: int, hidden: int = 64) -> None:
        super().__init__()
        self.fc1 = nn.Linear(num_features, hidden)
        self.fc2 = nn.Linear(hidden, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(torch.relu(self.fc1(x)))


class CNN(nn.Module):
    """Two 3x3 convolutions and a linear layer for 8x8 digits (~3,800 parameters).

    It takes the same flat 64-vector as the other models and reshapes it,
    so data, partitions and `functional_call` treat every model alike.
    """

    side = 8

    def __init__(self, num_features: int, num_classes: int, channels: tuple[int, int] = (8, 16)) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, channels[0], 3, padding=1)
        self.conv2 = nn.Conv2d(channels[0], channels[1], 3, padding=1)
        self.fc = nn.Linear(channels[1] * (self.side // 2) ** 2, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.conv1(x.reshape(-1, 1, self.side, self.side)))
        h = nn.functional.max_pool2d(torch.relu(self.conv2(h)), 2)
        return self.fc(h.flatten(1))


MODELS = {"logreg": LogReg, "mlp": MLP, "cnn": CNN}


def build_model(name: str, num_features: int, num_classes: int) -> nn.Module:
    try:
        model = MODELS[name]
    except KeyError:
        raise ConfigError("task.model", f"unknown model {name!r}; choose from {sorted(MODELS)}") from None
    if model is CNN and num_features != CNN.side**2:
        raise ConfigError("task.model", f"'cnn' reads 8x8 images (64 features); this dataset has {num_features} "
                          "features that are not pixels of an image: use 'logreg' or 'mlp'")
    return model(num_features, num_classes)


def initial_parameters(module: nn.Module, *, seed: int) -> torch.Tensor:
    """The genesis global model: the module's own init under `seed`, flattened."""
    generator_state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    try:
        for layer in module.modules():
            if hasattr(layer, "reset_parameters") and layer is not module:
                layer.reset_parameters()
    finally:
        torch.random.set_rng_state(generator_state)
    return torch.cat([p.detach().reshape(-1) for p in module.parameters()]).clone()
