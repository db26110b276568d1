"""A short dishonest-validator run (a dispute upheld, one dismissed, a slash, claims) for the dashboard's tests."""

from pathlib import Path

from typer.testing import CliRunner

from fedstake.cli import app

SCENARIO = Path(__file__).parent.parent / "examples" / "dishonest-validator.toml"
SHORT = ["task.rounds=3", "task.local-epochs=1"]


def simulate(out: Path, *settings: str) -> Path:
    """`fedstake simulate` of the dishonest-validator scenario, cut short, into `out`."""
    args = ["simulate", "-c", str(SCENARIO), "-o", str(out), "-q"]
    for setting in (*SHORT, *settings):
        args += ["--set", setting]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return out
