"""`make audit`: mythril over the runtime bytecode of every deployable contract.

Runs in the project venv (it compiles with fedstake's own compiler) and calls
`myth` from the separate audit venv, because mythril's eth pins conflict with
web3 8. Contracts are compiled with `-O none`: mythril misreads optimised Vyper
bytecode as an arbitrary jump (a false SWC-127). Exit status: 0 clean, 1 a
Medium or High finding, 2 mythril failed on a contract.

The code analysed is the runtime code as deployed: Vyper appends the
immutables (sibling contracts' addresses, periods, bounds) after it, and a
bare runtime reads them as zero, so every call to a sibling went to address
zero and reverted, which mythril reports as a Medium SWC-123 ("requirement
violated in a nested call") in any contract whose calls it reaches. Each
immutable gets a placeholder of its type (`immutables`). The audit compiles
for Shanghai: mythril 0.24.8 predates Cancun's MCOPY (0x5e), decodes it as
the withdrawn JUMPSUB and crashes on it (RevenueSplitter, once its calls
reach past the token). Without MCOPY Vyper copies memory with word loops:
the same contract one fork earlier.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
import warnings
from pathlib import Path

from eth_utils import abi_to_signature, function_abi_to_4byte_selector, keccak

from fedstake.chain.compiler import CONTRACT_NAMES, Artifact, artifact_of, contracts_dir, vyper_output
from mythril_report import ContractReport, ReportError, failing, parse_report, render


def selectors(artifact: Artifact) -> dict[str, str]:
    """Hex selector -> signature for every function in the ABI."""
    return {
        function_abi_to_4byte_selector(entry).hex(): abi_to_signature(entry)
        for entry in artifact.abi
        if entry["type"] == "function"
    }


def compiled(name: str) -> tuple[Artifact, bytes]:
    """`name` compiled unoptimised for Shanghai, with its immutables section (`immutables`)."""
    out = vyper_output(name, contracts_dir(), optimize="none", evm_version="shanghai",
                       output_formats=["abi", "bytecode", "bytecode_runtime", "layout"])
    return artifact_of(name, out), immutables(out["layout"].get("code_layout", {}))


def immutables(code_layout: dict) -> bytes:
    """The immutables section of deployed code, each filled with a placeholder of its type: an
    address (or interface) a distinct nonzero account, an integer 100 (fits uint8, a sane period
    or basis-point value), a bytesN the keccak of its name, a bool true, a string or bytes empty.
    Offsets and lengths are the compiler's own `layout` output."""
    leaves = list(_leaves(code_layout))
    section = bytearray(max((leaf["offset"] + leaf["length"] for _, leaf in leaves), default=0))
    for i, (path, leaf) in enumerate(leaves):
        section[leaf["offset"]:leaf["offset"] + 32] = _placeholder(path, leaf["type"], i)
    return bytes(section)


def _leaves(node: dict, path: str = ""):
    for key, value in node.items():
        if isinstance(value, dict) and "offset" in value and "type" in value:
            yield f"{path}{key}", value
        elif isinstance(value, dict):
            yield from _leaves(value, f"{path}{key}.")


def _placeholder(path: str, kind: str, index: int) -> bytes:
    if kind.startswith(("uint", "int")):
        return (100).to_bytes(32, "big")
    if kind.startswith("bytes") and kind[5:].isdigit():
        return keccak(path.encode())
    if kind == "bool":
        return (1).to_bytes(32, "big")
    if kind.startswith(("String", "Bytes")):
        return bytes(32)  # length 0
    return (0x1000 + index).to_bytes(32, "big")  # an address or an interface


def myth_command(myth: str, hex_file: Path, args: argparse.Namespace) -> list[str]:
    """The bounded `myth analyze` call: its own timeouts keep a 2-core run to minutes."""
    return [
        myth, "analyze", "--bin-runtime", "-f", str(hex_file), "-o", "jsonv2",
        "-t", str(args.transactions),
        "--execution-timeout", str(args.execution_timeout),
        "--solver-timeout", str(args.solver_timeout),
    ]  # fmt: skip


def audit_contract(name: str, args: argparse.Namespace) -> ContractReport:
    """Compile `name` unoptimised, run mythril on its runtime code, keep the raw report."""
    artifact, section = compiled(name)
    hex_file = args.out / f"{name}.hex"
    hex_file.write_text((artifact.runtime_bytecode + section).hex())
    print(f"mythril: {name} ({len(artifact.runtime_bytecode)} bytes) ...", flush=True)
    started = time.monotonic()
    done = subprocess.run(myth_command(args.myth, hex_file, args), capture_output=True, text=True, check=False)
    seconds = time.monotonic() - started
    (args.out / f"{name}.json").write_text(done.stdout)
    (args.out / f"{name}.stderr").write_text(done.stderr)
    if not done.stdout.strip():
        raise ReportError(f"{name}: mythril exited {done.returncode} without a report: {done.stderr.strip()[-300:]}")
    return parse_report(done.stdout, contract=name, selectors=selectors(artifact), seconds=seconds)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--myth", default=".venv-audit/bin/myth", help="the mythril executable")
    parser.add_argument("--out", type=Path, default=Path("results/audit"), help="bytecode and raw reports")
    parser.add_argument("--contracts", nargs="+", default=list(CONTRACT_NAMES), choices=CONTRACT_NAMES)
    parser.add_argument("--transactions", type=int, default=2, help="mythril -t: transactions in a sequence")
    parser.add_argument("--execution-timeout", type=int, default=180, help="seconds of symbolic execution each")
    parser.add_argument("--solver-timeout", type=int, default=10000, help="milliseconds per z3 query")
    args = parser.parse_args(argv)
    if shutil.which(args.myth) is None:
        parser.error(f"--myth {args.myth}: no such executable (make audit installs it into .venv-audit)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    # @dev Unoptimised TaskMarket exceeds EIP-170; it is analysed, never deployed, like this.
    warnings.filterwarnings("ignore", message="Length of compiled bytecode is bigger")
    reports: list[ContractReport] = []
    errors: list[str] = []
    for name in args.contracts:
        try:
            reports.append(audit_contract(name, args))
        except ReportError as exc:
            errors.append(str(exc))
    print(render(reports))
    blocking = failing(reports)
    print(f"\n{len(blocking)} Medium/High finding(s); raw reports in {args.out}/")
    for error in errors:
        print(f"error: {error}", file=sys.stderr)
    if errors:
        print(f"audit incomplete: {len(errors)} contract(s) not analysed", file=sys.stderr)
        return 2
    return 1 if blocking else 0


if __name__ == "__main__":
    sys.exit(main())
