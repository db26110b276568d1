"""A small sweep run as the CLI runs one (claim, resume, write after every run), for the sweep tests."""

from fedstake.sim.outdir import OutputDir
from fedstake.sim.sweep import parse_axis, run_sweep
from fedstake.sim.sweep_files import SWEEP_FILES, finished_rows, write_sweep

BASE = ["task.rounds=1", "task.local-epochs=1", "trainers.0.count=4", "task.clients-per-round=2"]
AXES = [parse_axis("task.seed=1,2"), parse_axis("task.aggregator=fedavg,median")]
COMPARED = ("sweep.json", "sweep.csv", "sweep.md", "sweep-grid.json")


class Stop(Exception):
    pass


def sweep(out, grid, *, jobs=1, force=False, stop_after=None):
    """Like the CLI: claim, resume, write after every run; returns the cells that ran."""
    outdir = OutputDir.claim(out, command="sweep", force=force, writes=SWEEP_FILES)
    finished = finished_rows(outdir, grid, force=force)
    ran = []

    def on_done(rows):
        write_sweep(rows, grid, outdir, "final_accuracy")
        ran.append(len(rows))
        if stop_after is not None and len(ran) == stop_after:
            raise Stop

    rows = run_sweep(grid, jobs=jobs, finished=finished, on_done=on_done)
    write_sweep(rows, grid, outdir, "final_accuracy")
    return len(ran)


def files(out):
    return {name: (out / name).read_bytes() for name in COMPARED}
