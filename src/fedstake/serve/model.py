"""The served model: a safetensors file checked against its task's on-chain model hash.

The file names its architecture by its tensors (`linear.*` logistic
regression, `fc1/fc2` MLP, `conv1/conv2/fc` CNN, fedstake's three models),
so serving needs no config beyond the file and the task.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from fedstake.errors import ArtifactError
from fedstake.learn.models import CNN, MLP, LogReg
from fedstake.proof.codec import DecodeError, decode_update, model_hash


def _architecture(tensors: dict[str, torch.Tensor]) -> nn.Module:
    names = set(tensors)
    if names == {"linear.weight", "linear.bias"}:
        classes, features = tensors["linear.weight"].shape
        return LogReg(features, classes)
    if names == {"fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"}:
        hidden, features = tensors["fc1.weight"].shape
        return MLP(features, tensors["fc2.weight"].shape[0], hidden)
    if names == {f"{layer}.{kind}" for layer in ("conv1", "conv2", "fc") for kind in ("weight", "bias")}:
        channels = (tensors["conv1.weight"].shape[0], tensors["conv2.weight"].shape[0])
        return CNN(CNN.side**2, tensors["fc.weight"].shape[0], channels)
    raise ArtifactError("model", f"tensors {sorted(names)} are none of fedstake's models (logreg, mlp, cnn)")


def num_features(module: nn.Module) -> int:
    """How many numbers one query carries."""
    if isinstance(module, CNN):
        return CNN.side**2
    first = module.linear if isinstance(module, LogReg) else module.fc1
    return first.in_features


def load_model(path: Path, *, expected_hash: bytes, task_id: int) -> nn.Module:
    """The model in `path`, refused unless its canonical hash is task `task_id`'s model hash on chain."""
    try:
        tensors = decode_update(path.read_bytes())
    except OSError as exc:
        raise ArtifactError(str(path), f"cannot read the model file: {exc.strerror}") from None
    except DecodeError:
        raise ArtifactError(str(path), "not a safetensors model file") from None
    found = model_hash(tensors)
    if found != expected_hash:
        raise ArtifactError(str(path), f"hash 0x{found.hex()} does not match task {task_id}'s model hash "
                            f"0x{expected_hash.hex()} on chain: not the model the task produced")
    module = _architecture(tensors)
    module.load_state_dict(tensors)
    return module.eval()
