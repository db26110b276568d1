"""Results directories: a user's files are never deleted, fedstake's own are replaced whole."""

import json
import os
import stat

import pytest

from fedstake.errors import ConfigError, OutputError
from fedstake.sim.outdir import MARKER, OutputDir, owned_files


def writes(**files):
    def fill(staging):
        for name, text in files.items():
            (staging / name).write_text(text)
    return fill


@pytest.fixture
def umask_027():
    previous = os.umask(0o027)
    yield
    os.umask(previous)


def test_a_new_directory_appears_whole_with_the_umask_permissions_and_a_marker(tmp_path, umask_027):
    out = OutputDir.claim(tmp_path / "a" / "run", command="simulate").publish(writes(**{"results.json": "{}"}))
    assert stat.S_IMODE(out.stat().st_mode) == 0o750 and stat.S_IMODE((out / "results.json").stat().st_mode) == 0o640
    assert json.loads((out / MARKER).read_text())["files"] == ["results.json"]
    assert sorted(p.name for p in out.parent.iterdir()) == ["run"]  # no staging left beside it


def test_a_directory_with_a_users_file_is_refused_and_untouched(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    (tmp_path / "sub").mkdir()
    with pytest.raises(ConfigError, match=r"--out: .* holds files fedstake did not write \(notes.txt, sub/\).*--force"):
        OutputDir.claim(tmp_path, command="simulate")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt", "sub"]


def test_force_replaces_only_fedstakes_own_files(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    OutputDir.claim(tmp_path, command="simulate", force=True).publish(writes(**{"a.csv": "1", "old.png": "x"}))
    OutputDir.claim(tmp_path, command="simulate", force=True).publish(writes(**{"a.csv": "2"}))
    assert (tmp_path / "notes.txt").read_text() == "mine" and (tmp_path / "a.csv").read_text() == "2"
    assert not (tmp_path / "old.png").exists()  # the previous run's file, fedstake's own
    assert json.loads((tmp_path / MARKER).read_text())["files"] == ["a.csv"]


def test_a_directory_fedstake_wrote_is_rewritten_without_force(tmp_path):
    OutputDir.claim(tmp_path / "run", command="sweep").publish(writes(**{"sweep.json": "[1]"}))
    OutputDir.claim(tmp_path / "run", command="sweep").publish(writes(**{"sweep.json": "[1, 2]"}))
    assert (tmp_path / "run" / "sweep.json").read_text() == "[1, 2]"


def test_an_out_that_is_a_file_or_under_a_file_is_refused(tmp_path):
    (tmp_path / "f").write_text("mine")
    with pytest.raises(ConfigError, match="is a file"):
        OutputDir.claim(tmp_path / "f", command="simulate")
    with pytest.raises(ConfigError, match="is a file, so"):
        OutputDir.claim(tmp_path / "f" / "run", command="simulate")
    assert (tmp_path / "f").read_text() == "mine"


def test_a_failing_writer_leaves_the_previous_files_and_no_staging(tmp_path):
    out = OutputDir.claim(tmp_path, command="simulate", force=True)
    out.publish(writes(**{"a.csv": "1"}))

    def explode(staging):
        (staging / "a.csv").write_text("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        out.publish(explode)
    assert sorted(p.name for p in tmp_path.iterdir()) == [MARKER, "a.csv"] and (tmp_path / "a.csv").read_text() == "1"


def test_files_in_folders_are_owned_replaced_and_cleaned_while_a_users_file_beside_them_stays(tmp_path):
    def run(*names):
        def fill(staging):
            for name in names:
                (staging / name).parent.mkdir(parents=True, exist_ok=True)
                (staging / name).write_text(name)
        return fill

    out = OutputDir.claim(tmp_path / "run", command="simulate")
    out.publish(run("results.json", "tables/round-1.json", "tables/round-2.json", "models/a.bin"))
    (tmp_path / "run" / "tables" / "notes.txt").write_text("mine")
    again = OutputDir.claim(tmp_path / "run", command="simulate")  # its own folders are not in the way
    again.publish(run("results.json", "tables/round-1.json"))
    left = sorted(p.relative_to(tmp_path / "run").as_posix() for p in (tmp_path / "run").rglob("*"))
    assert left == [MARKER, "results.json", "tables", "tables/notes.txt", "tables/round-1.json"]
    assert owned_files(tmp_path / "run") == {"results.json", "tables/round-1.json"}


def test_force_refuses_a_users_file_where_fedstake_would_write_and_leaves_it(tmp_path):
    (tmp_path / "report.html").write_text("mine")
    with pytest.raises(ConfigError, match=r"--out: .*report\.html is not fedstake's"):
        OutputDir.claim(tmp_path, command="simulate", force=True, writes=["results.json", "report.html"])
    claimed = OutputDir.claim(tmp_path, command="simulate", force=True)  # a name no command declared
    with pytest.raises(ConfigError, match=r"report\.html is not fedstake's"):
        claimed.publish(writes(**{"results.json": "{}", "report.html": "fedstake's"}))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"] and (tmp_path / "report.html").read_text() == "mine"


def test_force_refuses_a_file_or_a_symlink_where_fedstake_needs_a_folder(tmp_path):
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "models").symlink_to(tmp_path / "elsewhere")
    (tmp_path / "tables").write_text("mine")
    with pytest.raises(ConfigError, match=r"models/, tables"):
        OutputDir.claim(tmp_path, command="simulate", force=True, writes=["models/", "tables/"])


def test_only_the_files_the_marker_lists_are_replaced(tmp_path):
    out = OutputDir.claim(tmp_path, command="simulate", force=True)
    out.publish(writes(**{"a.csv": "1"}))
    (tmp_path / "b.csv").write_text("mine, written after the run")
    with pytest.raises(ConfigError, match=r"b\.csv is not fedstake's"):
        OutputDir.claim(tmp_path, command="simulate", force=True).publish(writes(**{"a.csv": "2", "b.csv": "2"}))
    assert (tmp_path / "a.csv").read_text() == "1" and (tmp_path / "b.csv").read_text() == "mine, written after the run"


def test_an_out_the_os_will_not_let_fedstake_write_is_refused_at_the_claim(tmp_path):
    with pytest.raises(ConfigError, match=r"--out: cannot write .*: File name too long"):
        OutputDir.claim(tmp_path / ("x" * 300), command="simulate")
    with pytest.raises(ConfigError, match=r"--out: cannot write /proc/fedstake-run"):
        OutputDir.claim("/proc/fedstake-run", command="simulate")
    assert list(tmp_path.iterdir()) == []


def test_an_oserror_while_publishing_names_the_path_as_the_user_knows_it_and_leaves_nothing(tmp_path):
    def too_long(staging):
        (staging / ("y" * 300)).write_text("x")

    out = OutputDir.claim(tmp_path / "run", command="simulate")
    with pytest.raises(OutputError, match=rf"cannot write {tmp_path / 'run'}/y+: File name too long"):
        out.publish(too_long)
    assert list(tmp_path.iterdir()) == []


def test_staging_a_killed_run_left_is_removed_and_nothing_else(tmp_path):
    import subprocess
    import sys

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    pid = int(dead.stdout)
    stale = tmp_path / f".fedstake-staging-{pid}-0123456789ab"
    live = tmp_path / f".fedstake-staging-{os.getpid()}-0123456789ab"
    lookalike = tmp_path / f".fedstake-staging-{pid}-mine"
    for folder in (stale, live, lookalike):
        (folder / "models").mkdir(parents=True)
    OutputDir.claim(tmp_path / "run", command="simulate")  # its parent is where a new run stages
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([live.name, lookalike.name])


def _federation_run(path):
    """What a federation writes straight into its directory, then publishes beside it."""
    (path / "keys").mkdir(parents=True)
    (path / "keys" / "trainer-0.json").write_text("{}")
    (path / "nodes" / "validator-0" / "published").mkdir(parents=True)
    (path / "nodes" / "validator-0" / "published" / "x.json").write_text("{}")
    (path / "rounds.jsonl").write_text("{}\n")


def test_files_a_command_writes_straight_in_are_recorded_kept_by_publishing_and_cleared_for_a_rerun(tmp_path):
    out = tmp_path / "run"
    claimed = OutputDir.claim(out, command="up")
    out.mkdir()
    _federation_run(out)
    claimed.record(["keys/", "nodes/", "rounds.jsonl", "logs/"])  # logs/ not written (yet): nothing to record
    assert owned_files(out) == {"keys/trainer-0.json", "nodes/validator-0/published/x.json", "rounds.jsonl"}
    claimed.publish(lambda staging: (staging / "results.json").write_text("{}"))
    assert (out / "keys" / "trainer-0.json").exists() and (out / "rounds.jsonl").exists()  # publishing kept them
    assert "results.json" in owned_files(out) and "keys/trainer-0.json" in owned_files(out)
    (out / "nodes" / "notes.txt").write_text("mine")  # a user's file in one of fedstake's folders
    again = OutputDir.claim(out, command="up", force=True)  # (force: nodes/notes.txt is the user's)
    again.clear()
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == [MARKER, "nodes", "nodes/notes.txt"]
    assert owned_files(out) == frozenset()
    assert OutputDir.claim(tmp_path / "run", command="up", force=True).owned == frozenset()
