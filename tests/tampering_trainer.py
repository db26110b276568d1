"""A trainer that tampers with what it sends, for the fault tests: the honest node, run as
`fedstake trainer` runs it, with its answer to `train` altered on the way out.

    python tests/tampering_trainer.py MODE <the `fedstake trainer` flags>

MODE is one of
    garbage    the sealed update's ciphertext replaced by random bytes
    wrong-key  the commitment signed by another key than the trainer's
    replay     from round 2 on, round 1's signed commitment and update sent again

Like the simulator's dishonest roles, it wraps the honest one; nothing in fedstake's own
participant code can be switched to misbehave.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from pathlib import Path

from flwr.app import ConfigRecord

from fedstake.chain.accounts import derive_account
from fedstake.chain.eip712 import sign_digest
from fedstake.chain.keystore import load_keystore, read_passphrase
from fedstake.chain.manifest import read_manifest
from fedstake.deploy.federation.agent import FlowerLink, run_participant
from fedstake.deploy.federation.node import Node, NodeConfig
from fedstake.deploy.federation.wire import commitment_doc, read_commitment

MODES = ("garbage", "wrong-key", "replay")


def tampering(node: Node, mode: str):
    honest, kept = node.handle, {}
    impostor = derive_account(0, "impostor")

    def handle(kind: str, records):
        answer = honest(kind, records)
        if kind != "train":
            return answer
        if mode == "garbage":
            return ConfigRecord({**answer, "ciphertext": os.urandom(len(bytes(answer["ciphertext"])))})
        doc = json.loads(str(answer["doc"]))
        if mode == "wrong-key":
            signed = read_commitment(doc["commitment"])
            forged = sign_digest(signed.commitment.digest(node.market.domain()), impostor.private_key)
            doc["commitment"] = commitment_doc(dataclasses.replace(signed, signature=forged))
            return ConfigRecord({**answer, "doc": json.dumps(doc, sort_keys=True)})
        kept.setdefault("first", answer)  # replay: round 1's answer, every round
        return kept["first"]

    return handle


def main(argv: list[str]) -> int:
    mode = argv[0]
    if mode not in MODES:
        raise SystemExit(f"MODE must be one of {MODES}")
    parser = argparse.ArgumentParser(prog="tampering_trainer")
    for flag in ("--config", "--manifest", "--index", "--dir", "--key", "--passphrase-file", "--superlink"):
        parser.add_argument(flag, required=True)
    args = parser.parse_args(argv[1:])
    manifest = read_manifest(Path(args.manifest))
    account = load_keystore(args.key, read_passphrase(file=args.passphrase_file))
    config = NodeConfig("trainer", int(args.index), Path(args.config), Path(args.manifest), Path(args.dir),
                        Path(args.key), None, manifest.rpc_url)
    node = Node(config, account)
    node.handle = tampering(node, mode)  # type: ignore[method-assign]
    return run_participant(node, FlowerLink(args.superlink), say=lambda text: print(text, file=sys.stderr))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
