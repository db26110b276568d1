"""`fedstake ...`: the command line.

Every command checks all it can before any work (keys, paths, metric
names, flags that need another flag, a node's reachability) and fails
with exit 2 and one line naming the key. SIGINT and SIGTERM stop every
child process, print "interrupted" and exit 130 or 143 (`signals`).
Output to a pipe or a file is never wrapped.
"""

from __future__ import annotations

import atexit
import gc
import sys
from pathlib import Path
from typing import Callable, Optional, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text
from typer.core import TyperGroup

from fedstake.errors import ConfigError, FedstakeError, Interrupted, OutputError

T = TypeVar("T")
# markup=False: what fedstake prints holds paths, reasons and errors, in which rich would take
# "[task]" for a style and drop it; the few styled words are `Text` spans (`_styled`)
err = Console(stderr=True, soft_wrap=True, markup=False)


class _Commands(TyperGroup):
    """Runs every command with SIGINT and SIGTERM turned into `Interrupted`, so the `finally`
    blocks that stop anvil, sweep workers and other children run; then exits 128 + signal."""

    def invoke(self, ctx: typer.Context):
        from fedstake.signals import interruptible

        try:
            with interruptible():
                return super().invoke(ctx)
        except Interrupted as exc:
            err.print("interrupted", highlight=False)
            raise typer.Exit(exc.exit_code) from None


def _group(help: str) -> typer.Typer:
    """A command group: -h, no guessing of mistyped commands (click suggests once), and a
    traceback that escapes without every frame's locals (they can be megabytes, or a key)."""
    return typer.Typer(cls=_Commands, add_completion=False, no_args_is_help=True, suggest_commands=False,
                       pretty_exceptions_show_locals=False, context_settings={"help_option_names": ["-h", "--help"]},
                       help=help)


app = _group("Federated learning with an on-chain settlement layer.")


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


def _styled(word: str, style: str, rest: str) -> Text:
    """`word` in `style`, then `rest` exactly as it is (no markup is read in it)."""
    return Text.assemble((word, style), " ", rest)


def _fail(message: str, code: int) -> None:
    err.print(_styled("error:", "bold red", message), highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def _checked(step: Callable[[], T]) -> T:
    """`step()`, or its error's one line: exit 2 for a ConfigError (a check before any work, or a
    user's file where a results directory is published), 1 when the OS would not write the results."""
    try:
        return step()
    except ConfigError as exc:
        _fail(str(exc), 2)
    except OutputError as exc:
        _fail(str(exc), 1)


def _console() -> Console:
    """stdout without wrapping: a pipe or a file gets whole lines, a terminal wraps them itself."""
    return Console(soft_wrap=True, markup=False)


def _progress(console: Console, label: str) -> Progress:
    """A bar on a terminal only: off one, rich would leave a blank line where the bar was."""
    columns = [TextColumn(f"[bold]{label}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    return Progress(*columns, console=console, transient=True, disable=not console.is_terminal)


_FORCE_HELP = "Write into an --out that holds other files; they stay, only fedstake's own files are replaced."


def _claim(out: Path, command: str, force: bool, writes: tuple[str, ...]):
    from fedstake.sim.outdir import OutputDir

    return _checked(lambda: OutputDir.claim(out, command=command, force=force, writes=writes))


def _print_summary(console: Console, results, out: Path) -> None:
    from fedstake.sim.summary import final_line, summary

    console.print(final_line(results), highlight=False)
    for label, text in summary(results, out):
        console.print(f"  {label:<10} {text}", highlight=False)
    console.print(f"results in {out}", highlight=False)


@app.command()
def simulate(
    config: Optional[Path] = typer.Option(None, "--config", "-c", help="Scenario TOML (defaults if omitted)."),
    out: Path = typer.Option(..., "--out", "-o", help="Results directory (new, or one fedstake wrote before)."),
    set_: list[str] = typer.Option([], "--set", help="Override a key: section.key=value (repeatable)."),
    force: bool = typer.Option(False, "--force", help=_FORCE_HELP),
    threads: int = typer.Option(1, "--threads", min=1, help="PyTorch CPU threads."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No per-round lines."),
) -> None:
    """Run a scenario on its chain and write results, plots, a report and the model."""
    from fedstake.sim.config import load_scenario
    from fedstake.sim.preflight import preflight
    from fedstake.sim.publish import artifact_names
    from fedstake.sim.report import REPORT_FILES
    from fedstake.sim.results import RUN_FILES

    scenario = _checked(lambda: load_scenario(config, set_))
    outdir = _claim(out, "simulate", force, (*RUN_FILES, *REPORT_FILES, *artifact_names(scenario)))
    _checked(lambda: preflight(scenario))
    import torch

    torch.set_num_threads(threads)
    from fedstake.sim.report import write_report
    from fedstake.sim.results import write_run
    from fedstake.sim.runner import run_scenario
    from fedstake.sim.summary import round_line

    console = _console()
    with _progress(console, "rounds") as progress:
        bar = progress.add_task("rounds", total=scenario.task.rounds)

        def on_round(row) -> None:
            progress.advance(bar)
            if not quiet:
                progress.console.print(round_line(row, scenario.task.rounds), highlight=False)

        try:
            results, world = run_scenario(scenario, on_round=on_round)
        except FedstakeError as exc:
            _fail(str(exc), 1)
    from fedstake.sim.publish import write_artifacts

    def extra(staging: Path) -> None:
        write_report(results, world, staging)
        write_artifacts(world, staging)

    written = _checked(lambda: write_run(results, outdir, extra=extra))
    _print_summary(console, results, written)


@app.command()
def sweep(
    config: Optional[Path] = typer.Option(None, "--config", "-c", help="Base scenario TOML."),
    out: Path = typer.Option(..., "--out", "-o", help="Directory for the sweep's files; a rerun resumes it."),
    vary: list[str] = typer.Option(..., "--vary", help="section.key=a,b,c (repeatable; the last goes across)."),
    set_: list[str] = typer.Option([], "--set", help="Override a key of the base scenario (repeatable)."),
    force: bool = typer.Option(False, "--force", help=_FORCE_HELP + " Also runs a new grid over another grid's sweep."),
    jobs: Optional[int] = typer.Option(None, "--jobs", "-j", min=1, help="Runs in parallel (one CPU thread each); "
                                       "default: every core."),
    workers: Optional[int] = typer.Option(None, "--workers", min=1, hidden=True),  # the old name of --jobs
    ray: Optional[str] = typer.Option(None, "--ray", help="Run on the Ray cluster at HOST:PORT, or auto: a local "
                                      "Ray instance of --jobs CPUs."),
    metric: str = typer.Option("final_accuracy", "--metric", help="final_accuracy | best_accuracy | rejected"),
) -> None:
    """Run a scenario for every combination of the varied keys; write a table after every run."""
    import os

    from fedstake.sim.preflight import preflight
    from fedstake.sim.sweep import check_metric, make_grid, parse_axis, run_sweep
    from fedstake.sim.sweep_files import SWEEP_FILES, finished_rows, write_sweep
    from fedstake.sim.sweep_table import pivot_markdown

    _checked(lambda: check_metric(metric))
    axes = _checked(lambda: [parse_axis(text) for text in vary])
    if ray is not None:
        from fedstake.sim.sweep_ray import check_ray_address

        _checked(lambda: check_ray_address(ray))
    grid = _checked(lambda: make_grid(config, set_, axes))
    outdir = _claim(out, "sweep", force, SWEEP_FILES)
    _checked(lambda: preflight(grid.base))
    finished = _checked(lambda: finished_rows(outdir, grid, force=force))
    parallel = jobs or workers or len(os.sched_getaffinity(0))
    total, done = len(grid.cells), list(finished.values())
    console = _console()
    if finished:
        err.print(f"resuming: {len(finished)} of {total} runs already finished in {outdir.path}", highlight=False)
    try:
        with _progress(console, "runs") as progress:
            bar = progress.add_task("runs", total=total, completed=len(finished))

            def on_done(rows: list[dict]) -> None:
                write_sweep(rows, grid, outdir, metric)
                done[:] = rows
                progress.advance(bar)

            rows = run_sweep(grid, jobs=parallel, ray=ray, finished=finished, on_done=on_done)
            if len(rows) == len(finished):  # nothing ran: the table may still change (--metric)
                write_sweep(rows, grid, outdir, metric)
    except ConfigError as exc:
        _fail(str(exc), 2)
    except FedstakeError as exc:
        _fail(str(exc), 1)
    except Interrupted:
        err.print(f"{len(done)} of {total} runs finished" + (f", kept in {outdir.path}" if done else ""),
                  highlight=False)
        raise
    console.print(pivot_markdown(rows, axes, metric), highlight=False)
    console.print(f"sweep of {len(rows)} runs in {outdir.path}", highlight=False)


@app.command()
def compare(
    config: Path = typer.Option(..., "--config", "-c", help="Scenario TOML (with \\[edge] and \\[costs] sections)."),
    out: Path = typer.Option(..., "--out", "-o", help="Directory for comparison.json/.csv/.md and plots."),
    set_: list[str] = typer.Option([], "--set", help="Override a key (repeatable)."),
    force: bool = typer.Option(False, "--force", help=_FORCE_HELP),
    mechanisms: str = typer.Option(",".join(("central", "per-round", "epoch", "contribution-stake", "reputation")),
                                   "--mechanisms", help="Comma-separated subset."),
    threads: int = typer.Option(1, "--threads", min=1, help="PyTorch CPU threads."),
) -> None:
    """Run one scenario under several incentive mechanisms and compare them, every cell measured."""
    from fedstake.sim.compare import COMPARISON_FILES, check_mechanisms, run_comparison, write_comparison
    from fedstake.sim.compare_report import markdown_table
    from fedstake.sim.config import load_scenario
    from fedstake.sim.preflight import preflight

    scenario = _checked(lambda: load_scenario(config, set_))
    names = _checked(lambda: check_mechanisms(scenario, mechanisms))
    outdir = _claim(out, "compare", force, COMPARISON_FILES)
    _checked(lambda: preflight(scenario))
    import torch

    torch.set_num_threads(threads)
    console = _console()
    try:
        with _progress(console, "mechanisms") as progress:
            bar = progress.add_task("mechanisms", total=len(names))
            rows = run_comparison(scenario, names, on_done=lambda _: progress.advance(bar))
    except FedstakeError as exc:
        _fail(str(exc), 2 if isinstance(exc, ConfigError) else 1)
    written = _checked(lambda: write_comparison(rows, outdir))
    console.print(markdown_table(rows), highlight=False)
    console.print(f"comparison in {written}", highlight=False)


@app.command()
def gas(
    backend: str = typer.Option("embedded", "--backend", help="embedded | rpc"),
    cohort: int = typer.Option(1000, "--cohort", min=2, help="Trainers in the rewards and updates trees."),
    rpc_url: Optional[str] = typer.Option(None, "--rpc-url", help="With --backend rpc: a node (default: start anvil)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object operation -> gas."),
    delegation: bool = typer.Option(True, "--delegation/--no-delegation",
                                    help="Also measure delegation, claims at 10, 100 and 1,000 delegators."),
) -> None:
    """Measure the gas of every settlement operation from the real receipts of a scripted task."""
    import json

    from fedstake.chain.delegation_gas import measure_delegation_gas
    from fedstake.chain.gas_profile import measure_gas

    if backend not in ("embedded", "rpc"):
        _fail(f"--backend: {backend!r} is not one of embedded, rpc", 2)
    if rpc_url is not None:
        if backend != "rpc":
            _fail(f"--rpc-url: only means something with --backend rpc (the backend is {backend!r})", 2)
        _checked(lambda: _check_node(rpc_url, "--rpc-url"))
    try:
        chain = _open_backend(backend, rpc_url)
        with chain:
            table = measure_gas(chain, cohort=cohort)
            if delegation:
                table |= measure_delegation_gas(chain)
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
    _console().print(view)


def _check_node(url: str, key: str) -> None:
    from fedstake.sim.preflight import check_node

    check_node(url, key)


def _open_backend(backend: str, rpc_url: str | None):
    if backend == "rpc":
        from fedstake.chain.rpc import open_rpc_backend

        return open_rpc_backend(rpc_url)
    from fedstake.chain.embedded import EmbeddedBackend

    return EmbeddedBackend()


@app.command("verify-model")
def verify_model(
    model: Path = typer.Option(..., "--model", help="The model file (safetensors) to check."),
    manifest: Optional[Path] = typer.Option(None, "--manifest",
                                            help="A run's manifest.json: chain, task and registry in one file."),
    task: Optional[int] = typer.Option(None, "--task", min=1, help="The task whose model NFT to check against."),
    rpc_url: Optional[str] = typer.Option(None, "--rpc-url", help="JSON-RPC URL of the chain the task ran on "
                                          "(with --manifest: instead of the one it names)."),
    registry: Optional[str] = typer.Option(None, "--registry",
                                           help="ModelRegistry address (results.json: chain.contracts)."),
) -> None:
    """Check a model file against its task's on-chain record and print its provenance.

    The record is found from a run's manifest.json alone, or from --task, --rpc-url and --registry."""
    from eth_utils import is_address

    from fedstake.chain.manifest import read_manifest
    from fedstake.chain.provenance import read_manifest_provenance, read_provenance
    from fedstake.chain.rpc import RpcBackend
    from fedstake.proof.codec import DecodeError, decode_update, model_hash

    run_manifest = None
    if manifest is not None:
        if task is not None or registry is not None:
            _fail("--manifest names the task and the registry: drop --task and --registry", 2)
        try:
            run_manifest = read_manifest(manifest)
        except FedstakeError as exc:
            _fail(f"--manifest: {exc}", 2)
        task, rpc_url = run_manifest.task_id, rpc_url or run_manifest.rpc_url
        if rpc_url is None:
            _fail(f"--rpc-url: {manifest} names no node (the run's chain ended with it); give the node's URL", 2)
    else:
        missing = [flag for flag, value in (("--task", task), ("--rpc-url", rpc_url), ("--registry", registry))
                   if value is None]
        if missing:
            _fail(f"{', '.join(missing)}: missing; give them, or a run's --manifest", 2)
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
    _checked(lambda: _check_node(rpc_url, "--rpc-url"))
    try:
        if run_manifest is not None:
            record = read_manifest_provenance(run_manifest, rpc_url=rpc_url)
        else:
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
    _console().print(_styled("verified:", "bold green", f"{model} is the final model of task {task} "
                     f"(hash 0x{file_hash.hex()}, {len(record.rounds)} rounds, owner {record.owner})"), highlight=False)


def _print_provenance(record) -> None:
    from rich.table import Table

    view = Table(title=f"provenance of model NFT {record.token_id} (owner {record.owner})")
    for column in ("round", "model hash", "updates root", "rewards root"):
        view.add_column(column)
    for number, result in enumerate(record.rounds, 1):
        view.add_row(str(number), "0x" + result.model_hash.hex()[:16] + "…", "0x" + result.updates_root.hex()[:16] + "…",
                     "0x" + result.rewards_root.hex()[:16] + "…")
    _console().print(view)


@app.command()
def dashboard(
    results: Optional[Path] = typer.Option(None, "--results", help="A finished run's directory (results.json)."),
    manifest: Optional[Path] = typer.Option(None, "--manifest", help="A deployment manifest: read its task's chain."),
    rpc_url: Optional[str] = typer.Option(None, "--rpc-url", help="JSON-RPC URL of the chain (with --market; with "
                                          "--manifest: instead of the node it names)."),
    market: Optional[str] = typer.Option(None, "--market", help="TaskMarket address: every task on that market."),
    port: int = typer.Option(8765, "--port", min=1, max=65535, help="Port on 127.0.0.1."),
    log_span: int = typer.Option(2_000, "--log-span", min=1, help="Blocks per eth_getLogs request (halved when the "
                                 "node refuses a range as too wide or too full)."),
    from_block: int = typer.Option(0, "--from-block", min=0, help="With --market: the block its history starts at "
                                   "(at or before its deployment; scanning a public chain from 0 is slow)."),
) -> None:
    """Serve the dashboard on 127.0.0.1: tasks, rounds (live), participants, claims, disputes, the model.

    From a finished run (--results), or a chain's logs and views (--manifest, or --rpc-url with --market)."""
    from fedstake.chain.anvil import port_in_use

    chosen = [flag for flag, value in (("--results", results), ("--manifest", manifest), ("--market", market))
              if value is not None]
    if len(chosen) != 1:
        _fail(f"{' and '.join(chosen) if chosen else 'a source'}: give exactly one of --results DIR, --manifest FILE "
              "or --rpc-url URL --market ADDRESS", 2)
    if results is not None and rpc_url is not None:
        _fail("--rpc-url: a results directory is read from disk; drop --rpc-url (or use --manifest)", 2)
    if market is not None and rpc_url is None:
        _fail("--rpc-url: missing; --market needs the chain's node", 2)
    if from_block and market is None:
        _fail("--from-block: only with --market (a manifest names its deployment block)", 2)
    if port_in_use(port):
        _fail(f"--port: 127.0.0.1:{port} is already in use; choose another --port", 2)
    source = _dashboard_source(results, manifest, rpc_url, market, log_span=log_span, from_block=from_block)
    import uvicorn

    from fedstake.dashboard.app import create_app

    err.print(f"dashboard on http://127.0.0.1:{port}/ ({source.label}); Ctrl-C stops it", highlight=False)
    try:
        uvicorn.run(create_app(source), host="127.0.0.1", port=port, log_level="warning")
    finally:
        source.close()


def _dashboard_source(results: Path | None, manifest: Path | None, rpc_url: str | None, market: str | None, *,
                      log_span: int, from_block: int):
    """The dashboard's source from the flags `dashboard` checked; a bad file or node is one line, exit 2."""
    from eth_utils import is_address

    if results is not None:
        from fedstake.dashboard.results_source import ResultsSource

        try:
            return ResultsSource(results)
        except FedstakeError as exc:
            _fail(f"--results: {exc}", 2)
    from fedstake.chain.rpc import RpcBackend
    from fedstake.dashboard.chain_source import ChainSource

    if manifest is not None:
        deployment = _manifest_of(manifest, "--manifest")
        url = _node_url(rpc_url, deployment, manifest)
        try:
            return ChainSource.from_manifest(deployment, RpcBackend.over_http(url), manifest_path=manifest,
                                             span=log_span)
        except FedstakeError as exc:
            _fail(f"--manifest: {exc}", 2)
    if not is_address(market):
        _fail(f"--market: {market!r} is not an address", 2)
    _checked(lambda: _check_node(rpc_url, "--rpc-url"))
    try:
        return ChainSource.from_market(RpcBackend.over_http(rpc_url), market, from_block=from_block, span=log_span)
    except FedstakeError as exc:
        _fail(f"--market: {exc}", 2)


@app.command()
def node(
    port: int = typer.Option(8545, "--port", min=1, max=65535, help="Port on 127.0.0.1."),
    chain_id: int = typer.Option(31337, "--chain-id"),
    state: Optional[Path] = typer.Option(None, "--state", help="Load the chain from this file if it exists, and "
                                         "save it there every 5 s and on stop: a restart resumes it."),
) -> None:
    """Run a local anvil node (the pinned npm binary) in the foreground, for rpc scenarios.

    It is announced once it answers; Ctrl-C or SIGTERM stops it (exit 130 or 143)."""
    from fedstake.chain.anvil import launch_anvil, port_in_use

    if port_in_use(port):
        _fail(f"--port: 127.0.0.1:{port} is already in use (another node?); stop it or choose another --port", 2)
    if state is not None and (state.is_dir() or not state.parent.is_dir()):
        _fail(f"--state: {state} is a directory or its folder does not exist", 2)
    try:
        anvil = launch_anvil(port=port, chain_id=chain_id, quiet=False, state=state)
    except FedstakeError as exc:
        _fail(str(exc), 1)
    try:
        err.print(f"anvil on {anvil.url} (chain id {chain_id}, pid {anvil.pid}); Ctrl-C stops it", highlight=False)
        code = anvil.process.wait()
    finally:
        anvil.stop()
    raise typer.Exit(code)


account_app = _group("Make and read Ethereum keystore files, one per participant, encrypted with its passphrase.")
app.add_typer(account_app, name="account")

_PASSPHRASE_ENV = typer.Option(None, "--passphrase-env", help="Environment variable holding the passphrase.")
_PASSPHRASE_FILE = typer.Option(None, "--passphrase-file", help="File holding the passphrase (one line).")


def _passphrase(env: str | None, file: Path | None) -> str:
    from fedstake.chain.keystore import read_passphrase

    if (env is None) == (file is None):
        _fail("--passphrase-env / --passphrase-file: give exactly one (the passphrase never goes on the command line)",
              2)
    try:
        return read_passphrase(env=env, file=file)
    except FedstakeError as exc:
        _fail(str(exc), 2)


@app.command("serve-model")
def serve_model(
    model: Path = typer.Option(..., "--model", help="The task's final model file (safetensors)."),
    manifest: Path = typer.Option(..., "--manifest", help="The deployment's manifest.json (names the chain)."),
    task: Optional[int] = typer.Option(None, "--task", min=1, help="The model's task (default: the manifest's)."),
    keys: Path = typer.Option(..., "--keys", help="JSON object of API key -> client name."),
    payer_key: Path = typer.Option(..., "--payer-key", help="Keystore of the account that pays the fees in "
                                   "(it approved the model's RevenueSplitter for them)."),
    passphrase_env: Optional[str] = _PASSPHRASE_ENV,
    passphrase_file: Optional[Path] = _PASSPHRASE_FILE,
    rpc_url: Optional[str] = typer.Option(None, "--rpc-url", help="JSON-RPC URL (default: the manifest's)."),
    port: int = typer.Option(8080, "--port", min=1, max=65535, help="Port on 127.0.0.1."),
    batch: int = typer.Option(100, "--batch", min=1, help="Queries per fee settlement (one transaction each)."),
) -> None:
    """Serve a minted model's predictions over HTTP, metered per API key at its voted price, fees settled per batch.

    The fees go into the model's RevenueSplitter in one transaction per batch (`serve` is the artifact store)."""
    import uvicorn

    from fedstake.chain.anvil import port_in_use
    from fedstake.chain.keystore import load_keystore
    from fedstake.chain.manifest import read_manifest
    from fedstake.chain.rpc import RpcBackend
    from fedstake.serve.command import serve_app

    if port_in_use(port):
        _fail(f"--port: 127.0.0.1:{port} is already in use; choose another --port", 2)
    payer = _checked(lambda: load_keystore(payer_key, _passphrase(passphrase_env, passphrase_file)))
    url = rpc_url or _checked(lambda: read_manifest(manifest)).rpc_url
    if url is None:
        _fail(f"--rpc-url: {manifest} names no node; give the node's URL", 2)
    with RpcBackend.over_http(url) as chain:
        served = _checked(lambda: serve_app(chain, manifest, task_id=task, model=model, keys=keys, payer=payer,
                                            batch=batch))
        _console().print(f"serving on http://127.0.0.1:{port}/predict (batch {batch}); Ctrl-C settles and stops",
                         highlight=False)
        uvicorn.run(served, host="127.0.0.1", port=port, log_level="warning")


@account_app.command("new")
def account_new(
    out: Path = typer.Option(..., "--out", "-o", help="The keystore file to create (never overwritten)."),
    passphrase_env: Optional[str] = _PASSPHRASE_ENV,
    passphrase_file: Optional[Path] = _PASSPHRASE_FILE,
) -> None:
    """Make a new random key and save it as an encrypted keystore file (mode 0600); print its address."""
    from fedstake.chain.keystore import create_keystore

    passphrase = _passphrase(passphrase_env, passphrase_file)
    try:
        account = create_keystore(out, passphrase)
    except FedstakeError as exc:
        _fail(f"--out: {exc}", 2)
    typer.echo(account.address)


@account_app.command("show")
def account_show(
    key: Path = typer.Argument(..., help="A keystore file."),
    passphrase_env: Optional[str] = _PASSPHRASE_ENV,
    passphrase_file: Optional[Path] = _PASSPHRASE_FILE,
) -> None:
    """Decrypt a keystore file (so the passphrase is checked) and print its address."""
    from fedstake.chain.keystore import load_keystore

    passphrase = _passphrase(passphrase_env, passphrase_file)
    try:
        typer.echo(load_keystore(key, passphrase).address)
    except FedstakeError as exc:
        _fail(str(exc), 2)


task_app = _group("Open and end a task as its requester, with your own key.")
app.add_typer(task_app, name="task")


def _key(key: Path, passphrase_env: str | None, passphrase_file: Path | None):
    from fedstake.chain.keystore import load_keystore

    passphrase = _passphrase(passphrase_env, passphrase_file)
    try:
        return load_keystore(key, passphrase)
    except FedstakeError as exc:
        _fail(f"--key: {exc}", 2)


def _node_url(rpc_url: str | None, manifest, path: Path) -> str:
    """The chain node: --rpc-url, else the one the manifest at `path` names; checked to answer."""
    url = rpc_url or manifest.rpc_url
    if url is None:
        _fail(f"--rpc-url: {path} names no node; give its URL", 2)
    _checked(lambda: _check_node(url, "--rpc-url"))
    return url


def _manifest_of(path: Path, key: str):
    from fedstake.chain.manifest import read_manifest

    try:
        return read_manifest(path)
    except FedstakeError as exc:
        _fail(f"{key}: {exc}", 2)


@task_app.command("create")
def task_create(
    config: Path = typer.Option(..., "--config", "-c", help="The scenario whose task to open."),
    contracts: Path = typer.Option(..., "--contracts", help="The deployment's manifest (task_id 0: contracts only)."),
    key: Path = typer.Option(..., "--key", help="The requester's keystore file."),
    out: Path = typer.Option(..., "--out", "-o", help="Where to write the task's manifest.json."),
    rpc_url: Optional[str] = typer.Option(None, "--rpc-url", help="The chain node (default: the one --contracts names)."),
    validator: Optional[list[str]] = typer.Option(None, "--validator", help="A validator's address, once per "
                                                  "validator in the scenario's order (default: the accounts the "
                                                  "scenario's seed derives, as fedstake up uses)."),
    passphrase_env: Optional[str] = _PASSPHRASE_ENV,
    passphrase_file: Optional[Path] = _PASSPHRASE_FILE,
) -> None:
    """Escrow the scenario's budget, post its rules and validators, write the task's manifest; print the task id."""
    from eth_utils import is_address, to_checksum_address

    from fedstake.chain.rpc import RpcBackend
    from fedstake.deploy.federation.requester import open_task, scenario_validators
    from fedstake.sim.config import load_scenario

    scenario = _checked(lambda: load_scenario(config, []))
    validators = None
    if validator:
        bonds = [stake for _, stake in scenario_validators(scenario)]
        if len(validator) != len(bonds):
            _fail(f"--validator: {len(validator)} given, the scenario casts {len(bonds)} validators", 2)
        wrong = [a for a in validator if not is_address(a)]
        if wrong:
            _fail(f"--validator: {wrong[0]!r} is not an address", 2)
        validators = [(to_checksum_address(a), bond) for a, bond in zip(validator, bonds)]
    deployment = _manifest_of(contracts, "--contracts")
    account = _key(key, passphrase_env, passphrase_file)
    url = _node_url(rpc_url, deployment, contracts)
    try:
        with RpcBackend.over_http(url) as chain:
            manifest = open_task(scenario, chain, deployment, account, out, validators=validators)
    except FedstakeError as exc:
        _fail(str(exc), 1)
    typer.echo(manifest.task_id)


@task_app.command("close")
def task_close(
    manifest: Path = typer.Option(..., "--manifest", help="The task's manifest.json."),
    key: Path = typer.Option(..., "--key", help="The requester's keystore file."),
    rpc_url: Optional[str] = typer.Option(None, "--rpc-url", help="The chain node (default: the manifest's)."),
    passphrase_env: Optional[str] = _PASSPHRASE_ENV,
    passphrase_file: Optional[Path] = _PASSPHRASE_FILE,
    as_json: bool = typer.Option(False, "--json", help="Print {\"refund\", \"model_minted\"} as JSON."),
) -> None:
    """End the task: refund what no final root committed, mint the model NFT if a round is final."""
    import json

    from fedstake.chain.rpc import RpcBackend
    from fedstake.deploy.federation.requester import close_task

    task = _manifest_of(manifest, "--manifest")
    account = _key(key, passphrase_env, passphrase_file)
    url = _node_url(rpc_url, task, manifest)
    try:
        with RpcBackend.over_http(url) as chain:
            ending = close_task(chain, task, account)
    except FedstakeError as exc:
        _fail(str(exc), 1)
    if as_json:
        typer.echo(json.dumps({"refund": str(ending.refund), "model_minted": ending.model_minted}))
    else:
        from fedstake.sim.summary import tokens

        typer.echo(f"task {task.task_id} closed: refunded {tokens(ending.refund)}"
                   + ("; model NFT minted" if ending.model_minted else "; no round was final, no model NFT"))


@app.command()
def stake(
    manifest: Path = typer.Option(..., "--manifest", help="A manifest.json of the contracts (a task's, or task_id 0)."),
    key: Path = typer.Option(..., "--key", help="The staker's keystore file."),
    role: str = typer.Option(..., "--role", help="trainer | validator (fixed at the first stake)."),
    amount: float = typer.Option(..., "--amount", min=0, help="Whole tokens to have staked in all."),
    rpc_url: Optional[str] = typer.Option(None, "--rpc-url", help="The chain node (default: the manifest's)."),
    passphrase_env: Optional[str] = _PASSPHRASE_ENV,
    passphrase_file: Optional[Path] = _PASSPHRASE_FILE,
) -> None:
    """Stake with your own key until --amount tokens are staked in all.

    A validator must be staked before a requester can list it in a task."""
    from fedstake.chain.manifest import attach
    from fedstake.chain.rpc import RpcBackend
    from fedstake.chain.staking import Role

    roles = {"trainer": Role.TRAINER, "validator": Role.VALIDATOR}
    if role not in roles:
        _fail(f"--role: {role!r} is not one of trainer, validator", 2)
    deployment = _manifest_of(manifest, "--manifest")
    account = _key(key, passphrase_env, passphrase_file)
    url = _node_url(rpc_url, deployment, manifest)
    wanted = int(amount * 10**18)
    try:
        with RpcBackend.over_http(url) as chain:
            contracts = attach(deployment, chain)
            missing = wanted - contracts.registry.stake_of(account.address)
            if missing > 0:
                contracts.token.approve(contracts.registry.address, missing, sender=account)
                contracts.registry.stake(missing, roles[role], sender=account)
            typer.echo(f"{account.address} has {contracts.registry.stake_of(account.address)} base units staked")
    except FedstakeError as exc:
        _fail(str(exc), 1)


@app.command()
def deploy(
    config: Path = typer.Option(..., "--config", "-c", help="A scenario whose [chain] section sets the settlement rules."),
    rpc_url: str = typer.Option(..., "--rpc-url", help="The chain node to deploy on."),
    key: Path = typer.Option(..., "--key", help="The operator's keystore file: it will own the contracts."),
    out: Path = typer.Option(..., "--out", "-o", help="Where to write the contracts' manifest (a new file)."),
    insurance: Optional[str] = typer.Option(None, "--insurance", help="The account slashed funds go to "
                                            "(default: the operator's)."),
    passphrase_env: Optional[str] = _PASSPHRASE_ENV,
    passphrase_file: Optional[Path] = _PASSPHRASE_FILE,
) -> None:
    """Deploy the token, the registries and the market with the operator's key, and write their manifest."""
    from eth_utils import is_address, to_checksum_address

    from fedstake.chain.manifest import write_manifest
    from fedstake.chain.rpc import RpcBackend
    from fedstake.deploy.federation.operator import deploy as deploy_contracts
    from fedstake.sim.config import load_scenario

    scenario = _checked(lambda: load_scenario(config, []))
    if out.exists():
        _fail(f"--out: {out} exists; fedstake writes a deployment's manifest only to a new file", 2)
    if not out.parent.is_dir():
        _fail(f"--out: {out.parent} is not a directory", 2)
    if insurance is not None and not is_address(insurance):
        _fail(f"--insurance: {insurance!r} is not an address", 2)
    account = _key(key, passphrase_env, passphrase_file)
    _checked(lambda: _check_node(rpc_url, "--rpc-url"))
    try:
        with RpcBackend.over_http(rpc_url) as chain:
            manifest = deploy_contracts(chain, account, scenario, rpc_url=rpc_url,
                                        insurance=to_checksum_address(insurance or account.address))
            write_manifest(manifest, out)
    except FedstakeError as exc:
        _fail(str(exc), 1)
    for name, entry in manifest.contracts.items():
        typer.echo(f"{name:<14} {entry.address}")
    typer.echo(f"manifest in {out} (chain id {manifest.chain_id}, from block {manifest.deployment_block})")


@app.command()
def mint(
    contracts: Path = typer.Option(..., "--contracts", help="The deployment's manifest."),
    key: Path = typer.Option(..., "--key", help="A minter's keystore file (the operator's, on a test chain)."),
    to: list[str] = typer.Option(..., "--to", help="ADDRESS=TOKENS, once per account."),
    rpc_url: Optional[str] = typer.Option(None, "--rpc-url", help="The chain node (default: the manifest's)."),
    passphrase_env: Optional[str] = _PASSPHRASE_ENV,
    passphrase_file: Optional[Path] = _PASSPHRASE_FILE,
) -> None:
    """Mint test tokens to participants with a minter's key: a test chain's faucet."""
    from decimal import Decimal, InvalidOperation

    from eth_utils import is_address, to_checksum_address

    from fedstake.chain.manifest import attach
    from fedstake.chain.rpc import RpcBackend
    from fedstake.deploy.federation.operator import mint as mint_tokens

    grants = []
    for item in to:
        address, _, tokens = item.partition("=")
        try:
            amount = Decimal(tokens) * 10**18
        except InvalidOperation:
            amount = Decimal(-1)
        if not is_address(address) or amount <= 0 or amount != amount.to_integral_value():
            _fail(f"--to: {item!r} is not ADDRESS=TOKENS with a positive amount", 2)
        grants.append((to_checksum_address(address), int(amount)))
    deployment = _manifest_of(contracts, "--contracts")
    account = _key(key, passphrase_env, passphrase_file)
    url = _node_url(rpc_url, deployment, contracts)
    try:
        with RpcBackend.over_http(url) as chain:
            mint_tokens(attach(deployment, chain), account, grants)
    except ConfigError as exc:
        _fail(str(exc), 2)
    except FedstakeError as exc:
        _fail(str(exc), 1)
    for address, amount in grants:
        typer.echo(f"{address} +{Decimal(amount) / 10**18} tokens")


_SUPERLINK = typer.Option(..., "--superlink", help="The SuperLink's Fleet API, host:port.")
_ROOT_CERTS = typer.Option(None, "--root-certificates", help="CA certificate (PEM) of the SuperLink's TLS; "
                           "without it the link is insecure (loopback only).")
_AUTH_KEY = typer.Option(None, "--auth-key", help="The SuperNode's private key, when the SuperLink authenticates "
                         "nodes (registered with `flwr supernode register`).")
_INDEX = typer.Option(..., "--index", min=0, help="Its place among the scenario's participants of this role: its data.")
_FOLDER = typer.Option(..., "--dir", help="This participant's own directory: its state, its agent's socket.")


def _participant(role: str, *, scenario: Path, manifest: Path, index: int, folder: Path, key: Path,
                 passphrase_file: Path | None, passphrase_env: str | None, superlink: str, rpc_url: str | None,
                 root_certificates: Path | None, auth_key: Path | None, serve_port: int | None,
                 serve_host: str = "127.0.0.1") -> None:
    """Shared by `fedstake trainer` and `fedstake validator`."""
    from fedstake.deploy.federation.agent import FlowerLink, check_link, run_participant
    from fedstake.deploy.federation.node import Node, NodeConfig

    _checked(lambda: check_link(superlink))
    task = _manifest_of(manifest, "--manifest")
    for flag, path in (("--root-certificates", root_certificates), ("--auth-key", auth_key)):
        if path is not None and not path.is_file():
            _fail(f"{flag}: {path} is not a file", 2)
    url = _node_url(rpc_url, task, manifest)
    account = _key(key, passphrase_env, passphrase_file)  # unlocked once: the agent keeps it in memory
    try:
        node = Node(NodeConfig(role, index, scenario, manifest, folder, key, None, url), account)
    except FedstakeError as exc:
        _fail(str(exc), 2)
    link = FlowerLink(superlink, root_certificates, auth_key)
    try:
        code = run_participant(node, link, serve_port=serve_port, serve_host=serve_host, say=lambda text: err.print(text, highlight=False))
    except FedstakeError as exc:
        _fail(str(exc), 1)
    raise typer.Exit(code)


@app.command()
def trainer(
    config: Path = typer.Option(..., "--config", "-c", help="The scenario the task plays (its data and rules)."),
    manifest: Path = typer.Option(..., "--manifest", help="The task's manifest.json."),
    index: int = _INDEX,
    folder: Path = _FOLDER,
    key: Path = typer.Option(..., "--key", help="This trainer's keystore file."),
    superlink: str = _SUPERLINK,
    rpc_url: Optional[str] = typer.Option(None, "--rpc-url", help="The chain node (default: the manifest's)."),
    root_certificates: Optional[Path] = _ROOT_CERTS,
    auth_key: Optional[Path] = _AUTH_KEY,
    passphrase_env: Optional[str] = _PASSPHRASE_ENV,
    passphrase_file: Optional[Path] = _PASSPHRASE_FILE,
) -> None:
    """Train for a task as an edge device, with your own key and data, until stopped.

    It stakes and joins, answers the coordinator through a Flower SuperNode, and claims its rewards."""
    _participant("trainer", scenario=config, manifest=manifest, index=index, folder=folder, key=key,
                 passphrase_file=passphrase_file, passphrase_env=passphrase_env, superlink=superlink,
                 rpc_url=rpc_url, root_certificates=root_certificates, auth_key=auth_key, serve_port=None)


@app.command()
def validator(
    config: Path = typer.Option(..., "--config", "-c", help="The scenario the task plays (its rules, its "
                                "validation data)."),
    manifest: Path = typer.Option(..., "--manifest", help="The task's manifest.json."),
    index: int = _INDEX,
    folder: Path = _FOLDER,
    key: Path = typer.Option(..., "--key", help="This validator's keystore file."),
    superlink: str = _SUPERLINK,
    serve_port: int = typer.Option(0, "--serve-port", min=0, max=65535,
                                   help="Port for its published models and tables (0: any free one)."),
    serve_host: str = typer.Option("127.0.0.1", "--serve-host", help="Address to publish on (0.0.0.0 for every "
                                   "interface, when the coordinator or the trainers run on other machines)."),
    rpc_url: Optional[str] = typer.Option(None, "--rpc-url", help="The chain node (default: the manifest's)."),
    root_certificates: Optional[Path] = _ROOT_CERTS,
    auth_key: Optional[Path] = _AUTH_KEY,
    passphrase_env: Optional[str] = _PASSPHRASE_ENV,
    passphrase_file: Optional[Path] = _PASSPHRASE_FILE,
) -> None:
    """Validate a task with your own key and validation data, until stopped.

    It screens, scores, aggregates, proposes or attests, challenges and votes through a Flower SuperNode.

    It publishes the models and rewards tables it settles."""
    _participant("validator", scenario=config, manifest=manifest, index=index, folder=folder, key=key,
                 passphrase_file=passphrase_file, passphrase_env=passphrase_env, superlink=superlink,
                 rpc_url=rpc_url, root_certificates=root_certificates, auth_key=auth_key, serve_port=serve_port,
                 serve_host=serve_host)


@app.command()
def serve(
    directory: Path = typer.Argument(..., help="A directory of published artifacts (models/, tables/, manifest.json)."),
    port: int = typer.Option(0, "--port", min=0, max=65535, help="Port on 127.0.0.1 (0: any free one)."),
) -> None:
    """Serve a directory's published artifacts read-only over HTTP until stopped (a validator's store)."""
    import threading

    from fedstake.deploy.publish import ArtifactServer

    if not directory.is_dir():
        _fail(f"DIRECTORY: {directory} is not a directory", 2)
    with ArtifactServer(directory, port=port) as server:
        err.print(f"serving {directory} at {server.url}; Ctrl-C stops it", highlight=False)
        threading.Event().wait()


def _print_round(console: Console, row: dict, rounds: int) -> None:
    """One line per round as the coordinator logged it (rounds.jsonl)."""
    console.print(f"round {row['round']:>3}/{rounds}  acc {row['accuracy']:.4f}  "
                  f"accepted {len(row['summary']['accepted'])}/{len(row['selected'])}  {row['seconds']:.1f} s",
                  highlight=False)


@app.command()
def coordinate(
    config: Path = typer.Option(..., "--config", "-c", help="The scenario the task plays."),
    manifest: Path = typer.Option(..., "--manifest", help="The task's manifest.json."),
    directory: Path = typer.Option(..., "--dir", help="The coordinator's directory: rounds.jsonl, the relay log, "
                                   "its own logs."),
    superlink: str = typer.Option(..., "--superlink", help="The SuperLink, host:port (its Control API)."),
    server: list[str] = typer.Option(..., "--server", help="A validator's artifact server URL, once per validator."),
    root_certificates: Optional[Path] = _ROOT_CERTS,
    rpc_url: Optional[str] = typer.Option(None, "--rpc-url", help="The chain node (default: the manifest's)."),
) -> None:
    """Relay a task's rounds between its participants' nodes, as Flower's ServerApp; it holds no key."""
    from fedstake.deploy.federation.agent import check_link
    from fedstake.deploy.federation.launcher import play, relay
    from fedstake.sim.config import load_scenario

    scenario = _checked(lambda: load_scenario(config, []))
    task = _manifest_of(manifest, "--manifest")
    _checked(lambda: check_link(superlink))
    if root_certificates is not None and not root_certificates.is_file():
        _fail(f"--root-certificates: {root_certificates} is not a file", 2)
    url = _node_url(rpc_url, task, manifest)
    console = _console()
    try:
        federation = relay(directory, config, manifest, superlink=superlink, rpc_url=url, servers=server,
                           root_certificates=root_certificates)
        runs = play(federation, scenario.task.rounds, on_round=lambda row: _print_round(console, row,
                                                                                        scenario.task.rounds))
    except FedstakeError as exc:
        _fail(f"{exc} (logs in {directory / 'logs'})", 1)
    console.print(f"task {task.task_id}: {scenario.task.rounds} rounds relayed in {len(runs)} coordinator run(s); "
                  f"rounds in {directory / 'rounds.jsonl'}", highlight=False)


@app.command()
def up(
    config: Path = typer.Option(..., "--config", "-c", help="The scenario the federation plays."),
    out: Path = typer.Option(..., "--out", "-o", help="The federation's directory (keys, logs, results)."),
    rpc_url: Optional[str] = typer.Option(None, "--rpc-url", help="A chain node to use (default: start anvil)."),
    force: bool = typer.Option(False, "--force", help=_FORCE_HELP),
    keep: bool = typer.Option(False, "--keep", help="Leave every process running at the end (`fedstake down DIR`)."),
) -> None:
    """Run every part of a task as its own process on loopback and play the task to its end.

    The parts: the chain, the requester, a SuperLink, a SuperNode per trainer and per validator, the coordinator.

    The results go to results.json in --out."""
    import time

    from fedstake.chain.manifest import MANIFEST, read_manifest
    from fedstake.chain.rpc import RpcBackend
    from fedstake.deploy.federation.launcher import FEDERATION_FILES, bring_up, check_scenario, play, read_ending, running
    from fedstake.deploy.federation.results import collect_artifacts, federation_results
    from fedstake.sim.config import load_scenario
    from fedstake.sim.publish import ARTIFACT_NAMES
    from fedstake.sim.report import MODEL_FILE
    from fedstake.sim.results import RUN_FILES, write_run

    scenario = _checked(lambda: load_scenario(config, []))
    _checked(lambda: check_scenario(scenario))
    outdir = _claim(out, "up", force, (*RUN_FILES, *ARTIFACT_NAMES, MODEL_FILE, *FEDERATION_FILES))
    alive = _checked(lambda: running(outdir.path))
    if alive:
        _fail(f"--out: a federation still runs in {outdir.path} ({', '.join(s.name for s in alive)}); "
              f"stop it with `fedstake down {out}` first", 2)
    if rpc_url is not None:
        _checked(lambda: _check_node(rpc_url, "--rpc-url"))
    outdir.clear()  # the previous federation's keys, chain, logs and results: a rerun starts from none of them
    console, started = _console(), time.monotonic()
    federation = None
    try:
        federation = bring_up(outdir.path, config, scenario, rpc_url=rpc_url,
                              say=lambda text: console.print(text, highlight=False))
        outdir.record(FEDERATION_FILES)
        setup_s = time.monotonic() - started
        console.print(f"up in {setup_s:.1f} s: {len(federation.services)} processes (see federation.json)",
                      highlight=False)
        play(federation, scenario.task.rounds, on_round=lambda row: _print_round(console, row, scenario.task.rounds))
        refund = read_ending(federation)
        manifest = read_manifest(outdir.path / MANIFEST)
        with RpcBackend.over_http(federation.rpc_url) as chain:
            results = federation_results(outdir.path, scenario, manifest, chain, refunded=refund, timing={
                "setup_s": round(setup_s, 3), "total_s": round(time.monotonic() - started, 3)},
                node_stays=keep or rpc_url is not None)
            outdir.record(FEDERATION_FILES)
            written = write_run(results, outdir, extra=lambda staging: collect_artifacts(
                outdir.path, manifest, chain, staging))
    except FedstakeError as exc:
        _fail(f"{exc} (logs in {out / 'logs'})", 1)
    finally:
        if federation is not None and not keep:
            federation.stop()
        outdir.record(FEDERATION_FILES)  # even when stopped early: a rerun knows these files for fedstake's
    _print_summary(console, results, written)


@app.command()
def down(directory: Path = typer.Argument(..., help="A directory `fedstake up` wrote.")) -> None:
    """Stop every process of a federation that still runs (by the pids in its federation.json)."""
    from fedstake.deploy.federation.launcher import down as stop_federation

    stopped = _checked(lambda: stop_federation(directory))
    typer.echo(f"stopped {len(stopped)} process(es)" + (": " + ", ".join(s.name for s in stopped) if stopped else ""))


def main() -> None:
    # Registered first, so it runs last, after every other exit handler: freezing what is alive
    # spares the interpreter's final collections from walking torch's and py-evm's object graphs
    # (1.3-1.5 s of a simulate's exit, measured). Files are written and closed explicitly before
    # this point; only the collection of cycles at exit is skipped.
    atexit.register(gc.freeze)
    app()


if __name__ == "__main__":
    sys.exit(main())
