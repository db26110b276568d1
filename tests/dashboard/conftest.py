import pytest

from dashboard_kit import simulate


@pytest.fixture(scope="session")
def embedded_run(tmp_path_factory):
    return simulate(tmp_path_factory.mktemp("dashboard") / "run")
