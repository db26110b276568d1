"""What a fedstake Flower run leaves behind: the final model and a JSON record of every round.

`run_simulation` returns nothing and `flwr run` runs the ServerApp in
another process, so a run that should be compared or audited later
writes its results to a directory (`flower.output-dir`):
`final_model.safetensors` (fedstake's canonical bytes, the ones
`model-hash` is the keccak256 of) and `history.json`. That directory
follows the rules of every fedstake results directory (`sim.outdir`):
claimed before the first round (a file, an unwritable place or a
directory holding a user's files is refused), published whole, a user's
file never replaced.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flwr.serverapp.strategy import Result

from fedstake.deploy.flower.arrays import to_tensors
from fedstake.deploy.flower.strategy import FedstakeStrategy
from fedstake.proof.codec import model_hash, params_bytes
from fedstake.sim.outdir import OutputDir

MODEL_FILE, HISTORY_FILE = "final_model.safetensors", "history.json"


def _by_round(metrics: dict[int, Any]) -> dict[str, dict]:
    return {str(r): dict(record) for r, record in sorted(metrics.items())}


def history(result: Result, strategy: FedstakeStrategy) -> dict[str, Any]:
    """The run as plain data: the rule and its parameters, every round's metrics, every rejection."""
    final = to_tensors(result.arrays)
    return {
        "aggregator": {"name": strategy.aggregator.name, "params": dict(strategy.aggregator.params)},
        "screening": {"max-norm": strategy.max_norm},
        "train-metrics": _by_round(result.train_metrics_clientapp),
        "evaluate-metrics-clientapp": _by_round(result.evaluate_metrics_clientapp),
        "evaluate-metrics-serverapp": _by_round(result.evaluate_metrics_serverapp),
        "rejections": [{"round": r.server_round, "node-id": r.node_id, "reason": r.reason}
                       for r in strategy.rejections],
        "model-hash": "0x" + model_hash(final).hex(),
    }


def claim_output(directory: str) -> OutputDir:
    """`flower.output-dir`, checked and claimed before any round (a ConfigError naming the key)."""
    return OutputDir.claim(directory, command="flower", key="flower.output-dir", writes=(MODEL_FILE, HISTORY_FILE))


def write_history(directory: Path, result: Result, strategy: FedstakeStrategy) -> None:
    """The final model and history.json, into `directory` (a claimed output's staging folder)."""
    (directory / MODEL_FILE).write_bytes(params_bytes(to_tensors(result.arrays)))
    (directory / HISTORY_FILE).write_text(json.dumps(history(result, strategy), indent=2) + "\n")
