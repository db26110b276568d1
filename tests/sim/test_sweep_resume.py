"""A sweep is the same bytes however it runs: with one job or two, in one go or resumed after
an interruption (finished cells are not run again, failed ones are); another grid's sweep in
the directory is refused unless --force."""

import pytest
from sweep_kit import AXES, BASE, Stop, files, sweep

from fedstake.errors import ConfigError
from fedstake.sim.outdir import OutputDir
from fedstake.sim.sweep import make_grid, run_sweep
from fedstake.sim.sweep_files import write_sweep


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    out = tmp_path_factory.mktemp("serial") / "sweep"
    assert sweep(out, make_grid(None, BASE, AXES)) == 4
    return files(out)


def test_two_jobs_write_the_same_bytes_as_one(tmp_path, serial):
    assert sweep(tmp_path / "sweep", make_grid(None, BASE, AXES), jobs=2) == 4
    assert files(tmp_path / "sweep") == serial


def test_an_interrupted_sweep_resumes_without_running_its_finished_cells(tmp_path, serial):
    grid = make_grid(None, BASE, AXES)
    with pytest.raises(Stop):
        sweep(tmp_path / "sweep", grid, stop_after=1)
    assert (tmp_path / "sweep" / "sweep.json").read_text().count('"vary"') == 1
    assert sweep(tmp_path / "sweep", grid) == 3
    assert files(tmp_path / "sweep") == serial
    assert sweep(tmp_path / "sweep", grid) == 0  # all finished: nothing runs, the files stay
    assert files(tmp_path / "sweep") == serial


def test_a_failed_cell_runs_again_on_resume(tmp_path, serial):
    grid = make_grid(None, BASE, AXES)
    outdir = OutputDir.claim(tmp_path / "sweep", command="sweep")
    rows = run_sweep(grid, jobs=1)
    rows[2] = {**rows[2], "error": "world: the node went away"}
    write_sweep(rows, grid, outdir, "final_accuracy")
    assert "failed" in (tmp_path / "sweep" / "sweep.md").read_text()
    assert sweep(tmp_path / "sweep", grid) == 1
    assert files(tmp_path / "sweep") == serial


def test_another_grid_in_the_directory_is_refused_unless_force(tmp_path):
    small = make_grid(None, BASE, AXES[:1])
    sweep(tmp_path / "sweep", small)
    other = make_grid(None, BASE + ["task.rounds=2"], AXES[:1])
    with pytest.raises(ConfigError, match=r"--out: .* holds a sweep of another grid \(not the same base scenario\); "
                                          r".*--force"):
        sweep(tmp_path / "sweep", other)
    assert sweep(tmp_path / "sweep", other, force=True) == 2
    with pytest.raises(ConfigError, match=r"not the same axes"):
        sweep(tmp_path / "sweep", make_grid(None, BASE + ["task.rounds=2"], AXES[:1][::-1] + AXES[1:]))
