"""`fedstake ...`: the command line."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from fedstake.errors import ConfigError, FedstakeError

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Federated learning with an on-chain settlement layer.")
err = Console(stderr=True)


@app.callback(invoke_without_command=True)
def _root(
    ctx: typer.Context,
    version: bool = typer.Option(False, "--version", help="Print the version and exit.", is_eager=True),
) -> None:
    """fedstake: federated learning with an on-chain settlement layer."""
    if version:
        from fedstake import __version__

        typer.echo(__version__)
        raise typer.Exit()
    if ctx.invoked_subcommand is None:
        typer.echo(ctx.get_help())
        raise typer.Exit(2)


def _fail(message: str, code: int) -> None:
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


@app.command()
def simulate(
    config: Optional[Path] = typer.Option(None, "--config", "-c", help="Scenario TOML (defaults if omitted)."),
    out: Path = typer.Option(..., "--out", "-o", help="Results directory (replaced when the run completes)."),
    set_: list[str] = typer.Option([], "--set", help="Override a key: section.key=value (repeatable)."),
    threads: int = typer.Option(1, "--threads", min=1, help="PyTorch CPU threads."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No per-round lines."),
) -> None:
    """Run a scenario on an embedded chain and write results, plots and a report."""
    from fedstake.sim.config import load_scenario

    try:
        scenario = load_scenario(config, set_)
    except ConfigError as exc:
        _fail(str(exc), 2)
    import torch

    torch.set_num_threads(threads)
    from fedstake.sim.report import write_report
    from fedstake.sim.results import write_run
    from fedstake.sim.runner import run_scenario

    console = Console()
    columns = [TextColumn("[bold]rounds"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    with Progress(*columns, console=console, transient=True) as progress:
        bar = progress.add_task("rounds", total=scenario.task.rounds)

        def on_round(row) -> None:
            progress.advance(bar)
            if not quiet:
                rejected = f"  rejected {len(row.rejected)}" if row.rejected else ""
                progress.console.print(
                    f"round {row.round:>3}/{scenario.task.rounds}  acc {row.accuracy:.4f}  loss {row.loss:.4f}  "
                    f"accepted {len(row.accepted)}/{len(row.selected)}{rejected}  root {row.rewards_root[:12]}…",
                    highlight=False,
                )

        try:
            results, world = run_scenario(scenario, on_round=on_round)
        except FedstakeError as exc:
            _fail(str(exc), 1)
    written = write_run(results, out, extra=lambda staging: write_report(results, world, staging))
    final = results.final
    console.print(
        f"final accuracy {final['accuracy']:.4f}  paid {final['paid'] / 1e18:,.2f} of {final['budget'] / 1e18:,.2f} "
        f"tokens  refunded {final['refunded']} base units  supply conserved: {final['supply_conserved']}  "
        f"({results.timing['total_s']:.1f} s)",
        highlight=False,
    )
    console.print(f"results in {written}", highlight=False)


@app.command()
def sweep(
    config: Optional[Path] = typer.Option(None, "--config", "-c", help="Base scenario TOML."),
    out: Path = typer.Option(..., "--out", "-o", help="Directory for sweep.json, sweep.csv, sweep.md."),
    vary: list[str] = typer.Option(..., "--vary", help="section.key=a,b,c (repeatable; the first goes down)."),
    set_: list[str] = typer.Option([], "--set", help="Override a key of the base scenario (repeatable)."),
    workers: int = typer.Option(2, "--workers", min=1, help="Runs in parallel (one CPU thread each)."),
    metric: str = typer.Option("final_accuracy", "--metric", help="final_accuracy | best_accuracy | rejected"),
) -> None:
    """Run a scenario for every combination of the varied keys; write a table."""
    from fedstake.sim.sweep import combinations, parse_axis, pivot_markdown, run_sweep, write_sweep

    try:
        axes = [parse_axis(text) for text in vary]
        total = len(list(combinations(axes)))
        console = Console()
        columns = [TextColumn("[bold]runs"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
        with Progress(*columns, console=console, transient=True) as progress:
            bar = progress.add_task("runs", total=total)
            rows = run_sweep(config, set_, axes, workers=workers, on_done=lambda _: progress.advance(bar))
    except FedstakeError as exc:
        _fail(str(exc), 2 if isinstance(exc, ConfigError) else 1)
    write_sweep(rows, axes, out, metric)
    console.print(pivot_markdown(rows, axes, metric), highlight=False, soft_wrap=True)
    console.print(f"sweep of {len(rows)} runs in {out}", highlight=False)


@app.command()
def compare(
    config: Path = typer.Option(..., "--config", "-c", help="Scenario TOML (with \\[edge] and \\[costs] sections)."),
    out: Path = typer.Option(..., "--out", "-o", help="Directory for comparison.json/.csv/.md and plots."),
    set_: list[str] = typer.Option([], "--set", help="Override a key (repeatable)."),
    mechanisms: str = typer.Option(",".join(("central", "per-round", "epoch", "contribution-stake", "reputation")),
                                   "--mechanisms", help="Comma-separated subset."),
    threads: int = typer.Option(1, "--threads", min=1, help="PyTorch CPU threads."),
) -> None:
    """Run one scenario under several incentive mechanisms and compare them, every cell measured."""
    from fedstake.sim.compare import run_comparison, write_comparison
    from fedstake.sim.compare_report import markdown_table, plot_comparison
    from fedstake.sim.config import load_scenario

    try:
        scenario = load_scenario(config, set_)
        names = tuple(m.strip() for m in mechanisms.split(",") if m.strip())
    except ConfigError as exc:
        _fail(str(exc), 2)
    import torch

    torch.set_num_threads(threads)
    console = Console()
    columns = [TextColumn("[bold]mechanisms"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    try:
        with Progress(*columns, console=console, transient=True) as progress:
            bar = progress.add_task("mechanisms", total=len(names))
            rows = run_comparison(scenario, names, on_done=lambda _: progress.advance(bar))
    except FedstakeError as exc:
        _fail(str(exc), 2 if isinstance(exc, ConfigError) else 1)
    write_comparison(rows, out)
    plot_comparison(rows, out)
    table = markdown_table(rows)
    (out / "comparison.md").write_text(table)
    console.print(table, highlight=False, soft_wrap=True)
    console.print(f"comparison in {out}", highlight=False)


@app.command()
def gas(
    backend: str = typer.Option("embedded", "--backend", help="embedded | rpc"),
    cohort: int = typer.Option(1000, "--cohort", min=2, help="Trainers in the rewards and updates trees."),
    rpc_url: Optional[str] = typer.Option(None, "--rpc-url", help="With --backend rpc: a node (default: start anvil)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object operation -> gas."),
) -> None:
    """Gas of every settlement operation, from real receipts of a scripted task."""
    import json

    from fedstake.chain.gas_profile import measure_gas

    if backend not in ("embedded", "rpc"):
        _fail(f"--backend: {backend!r} is not one of embedded, rpc", 2)
    try:
        chain = _open_backend(backend, rpc_url)
        with chain:
            table = measure_gas(chain, cohort=cohort)
    except FedstakeError as exc:
        _fail(str(exc), 1)
    if as_json:
        typer.echo(json.dumps(table))
        return
    from rich.table import Table

    view = Table(title=f"gas per operation ({backend}, cohort {cohort})")
    view.add_column("operation")
    view.add_column("gas", justify="right")
    for operation, value in table.items():
        view.add_row(operation, f"{value:,}")
    Console().print(view)


def _open_backend(backend: str, rpc_url: str | None):
    if backend == "rpc":
        from fedstake.chain.rpc import open_rpc_backend

        return open_rpc_backend(rpc_url)
    from fedstake.chain.embedded import EmbeddedBackend

    return EmbeddedBackend()


@app.command("verify-model")
def verify_model(
    model: Path = typer.Option(..., "--model", help="The model file (safetensors) to check."),
    task: int = typer.Option(..., "--task", min=1, help="The task whose model NFT to check against."),
    rpc_url: str = typer.Option(..., "--rpc-url", help="JSON-RPC URL of the chain the task ran on."),
    registry: str = typer.Option(..., "--registry", help="ModelRegistry address (results.json: chain.contracts)."),
) -> None:
    """Check a model file against its on-chain record and print its provenance."""
    from eth_utils import is_address

    from fedstake.chain.provenance import read_provenance
    from fedstake.chain.rpc import RpcBackend
    from fedstake.proof.codec import DecodeError, decode_update, model_hash

    if not is_address(registry):
        _fail(f"--registry: {registry!r} is not an address", 2)
    try:
        payload = model.read_bytes()
    except OSError as exc:
        _fail(f"--model: cannot read {model}: {exc.strerror}", 2)
    try:
        tensors = decode_update(payload)
    except DecodeError:
        _fail(f"--model: {model} is not a safetensors model file", 2)
    try:
        with RpcBackend.over_http(rpc_url) as chain:
            record = read_provenance(chain, registry, task)
    except FedstakeError as exc:
        _fail(str(exc), 1)
    _print_provenance(record)
    file_hash = model_hash(tensors)  # canonical bytes: another safetensors writer still verifies
    if file_hash != record.record.model_hash:
        _fail(f"{model}: hash 0x{file_hash.hex()} does not match task {task}'s model hash "
              f"0x{record.record.model_hash.hex()}: the file is not the model the task produced", 1)
    if not record.consistent:
        _fail(f"task {task}: the rounds on chain do not chain to the NFT's provenance hash", 1)
    Console().print(f"[bold green]verified:[/] {model} is the final model of task {task} "
                    f"(hash 0x{file_hash.hex()}, {len(record.rounds)} rounds, owner {record.owner})", highlight=False,
                    soft_wrap=True)


def _print_provenance(record) -> None:
    from rich.table import Table

    view = Table(title=f"provenance of model NFT {record.token_id} (owner {record.owner})")
    for column in ("round", "model hash", "updates root", "rewards root"):
        view.add_column(column)
    for number, result in enumerate(record.rounds, 1):
        view.add_row(str(number), "0x" + result.model_hash.hex()[:16] + "…", "0x" + result.updates_root.hex()[:16] + "…",
                     "0x" + result.rewards_root.hex()[:16] + "…")
    Console().print(view)


@app.command()
def node(
    port: int = typer.Option(8545, "--port", help="Port on 127.0.0.1."),
    chain_id: int = typer.Option(31337, "--chain-id"),
) -> None:
    """Run a local anvil node (the pinned npm binary) in the foreground, for rpc scenarios."""
    import subprocess

    from fedstake.chain.anvil import find_anvil

    try:
        binary = find_anvil()
    except FedstakeError as exc:
        _fail(str(exc), 1)
    err.print(f"anvil on http://127.0.0.1:{port} (chain id {chain_id}); Ctrl-C stops it", highlight=False)
    raise typer.Exit(subprocess.call([str(binary), "--host", "127.0.0.1", "--port", str(port), "--chain-id",
                                      str(chain_id), "--hardfork", "prague"]))


def main() -> None:
    app()


if __name__ == "__main__":
    sys.exit(main())
