import json

import pytest

from fedstake.sim.outdir import OutputDir
from fedstake.sim.results import ParticipantRow, Results, write_run


def results() -> Results:
    return Results("0", {}, {"gas": {}}, {}, [], [ParticipantRow("0xa", "trainer", "honest", 1, 1, 1, 0, 0)], {})


def test_run_is_written_whole(tmp_path):
    out = write_run(results(), OutputDir.claim(tmp_path / "run", command="simulate"))
    assert json.loads((out / "results.json").read_text())["participants"][0]["address"] == "0xa"
    assert (out / "rounds.csv").exists() and (out / "participants.csv").exists()


def test_a_failing_writer_leaves_nothing_behind(tmp_path):
    def explode(_):
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_run(results(), OutputDir.claim(tmp_path / "run", command="simulate"), extra=explode)
    assert list(tmp_path.iterdir()) == []


def test_a_rerun_replaces_the_previous_results_and_keeps_a_users_file(tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "notes.txt").write_text("mine")
    for _ in range(2):
        out = write_run(results(), OutputDir.claim(tmp_path / "run", command="simulate", force=True))
    assert (out / "notes.txt").read_text() == "mine" and (out / "results.json").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


@pytest.mark.parametrize("rounds", [1, 2, 7])
def test_the_accuracy_plot_ticks_whole_rounds_only(rounds):
    from fedstake.sim.report import accuracy_figure
    from fedstake.sim.results import RoundRow

    rows = [RoundRow(n, 0.1 * n, 1.0, [], [], [], "0x", "0x", "0x", "0x", 0) for n in range(1, rounds + 1)]
    fig = accuracy_figure(Results("0", {}, {}, {}, rows, [], {}))
    low, high = fig.axes[0].get_xlim()
    ticks = [t for t in fig.axes[0].get_xticks() if low <= t <= high]
    assert ticks and all(float(t).is_integer() for t in ticks)
