"""Transactions per second of each chain backend, against web3 + eth-tester measured in the same run.

    .venv/bin/python benchmarks/bench_chain.py [--count N]      (or: make bench-chain)

Every backend deploys the same system and sends the same ERC-20 transfers one
by one from one sender, each waiting for its receipt (what the protocol does:
a claim or a post is used as soon as it is mined). The first transfer, which
creates the recipient's balance slot, is sent before the clock starts. Reads
(a `balanceOf` call) are timed the same way. The last line is one JSON object:
rates and ratios to the eth-tester baseline.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Callable

from fedstake.chain.accounts import derive_account
from fedstake.chain.anvil import start_anvil
from fedstake.chain.backend import ChainBackend
from fedstake.chain.deployment import SettlementParams, deploy_system
from fedstake.chain.embedded import EmbeddedBackend
from fedstake.chain.rpc import RpcBackend


def _rates(backend: ChainBackend, count: int) -> tuple[float, float]:
    owner, sender, recipient = (derive_account(0, f"bench-{label}") for label in ("owner", "sender", "recipient"))
    system = deploy_system(backend, owner, insurance=owner.address, params=SettlementParams())
    system.token.mint(sender.address, count + 1, sender=owner)
    system.token.transfer(recipient.address, 1, sender=sender)
    started = time.perf_counter()
    for _ in range(count):
        system.token.transfer(recipient.address, 1, sender=sender)
    tx_rate = count / (time.perf_counter() - started)
    started = time.perf_counter()
    for _ in range(count):
        system.token.balance_of(recipient.address)
    return tx_rate, count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=500, help="transfers (and reads) per backend")
    count = parser.parse_args().count
    with start_anvil() as node:
        backends: dict[str, Callable[[], ChainBackend]] = {
            "web3+eth-tester": RpcBackend.over_eth_tester,
            "embedded": EmbeddedBackend,
            "web3+anvil (sync send)": lambda: RpcBackend.over_http(node.url),
            "web3+anvil (receipt polled every 2 ms)": lambda: RpcBackend.over_http(node.url, sync_send=False),
        }
        rates = {name: _rates(make(), count) for name, make in backends.items()}
    baseline = rates["web3+eth-tester"][0]
    print(f"{'backend':42s} {'tx/s':>8s} {'x eth-tester':>13s} {'reads/s':>9s}")
    for name, (tx, reads) in rates.items():
        print(f"{name:42s} {tx:8.0f} {tx / baseline:13.1f} {reads:9.0f}")
    print(json.dumps({name: {"tx_per_s": round(tx, 1), "reads_per_s": round(reads, 1),
                             "tx_ratio_to_eth_tester": round(tx / baseline, 2)}
                      for name, (tx, reads) in rates.items()}))


if __name__ == "__main__":
    main()
