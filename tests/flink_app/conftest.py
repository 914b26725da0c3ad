"""Fixtures of the flink_app tests: shared real PyFlink job runs on the crafted input.

The expensive fixtures (real PyFlink jobs on a local mini-cluster) are session-scoped so each mode's run is
shared by every test that checks it. Tests that need pyflink skip with an explicit reason when it is not
installed (the main virtualenv): they run with ``make test-flink``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
for entry in (REPO_ROOT, HERE):  # flink_app.* from the repository; flink_test_support beside this file
    if str(entry) not in sys.path:
        sys.path.insert(0, str(entry))

from flink_test_support import CRAFTED_FILES, Row, lander, local_settings, run_crafted_batch  # noqa: E402


@pytest.fixture(scope="session")
def pyflink() -> Any:
    return pytest.importorskip("pyflink", reason="pyflink is not installed in this venv: run `make test-flink`")


@pytest.fixture(scope="session")
def batch_result(pyflink: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Row]]:
    """The crafted input run once in batch mode."""
    return run_crafted_batch(tmp_path_factory.mktemp("batch"))


@pytest.fixture(scope="session")
def streaming_run(pyflink: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The crafted input landed file by file, in event-time order, after the streaming job is running."""
    from flink_app.unilake_job import job

    tmp = tmp_path_factory.mktemp("streaming")
    settings = local_settings(tmp, mode="streaming")
    run = job.LocalRun(checkpoint_dir=tmp / "chk", idle_timeout_s=3.0)
    (tmp / "in").mkdir()
    job.run_local(settings, run=run, on_running=lander(tmp / "in", CRAFTED_FILES, gap_s=1.5), log=lambda _: None)
    return tmp / "out"
