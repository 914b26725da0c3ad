"""Fixtures of the flink_app tests: shared real PyFlink job runs on the crafted input.

The expensive fixtures (real PyFlink jobs on a local mini-cluster) are session-scoped so each mode's run is
shared by every test that checks it. Tests that need pyflink skip with an explicit reason when it is not
installed (the main virtualenv): they run with ``make test-flink``.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
for entry in (REPO_ROOT, HERE):  # flink_app.* from the repository; flink_test_support beside this file
    if str(entry) not in sys.path:
        sys.path.insert(0, str(entry))

from flink_test_support import CRAFTED_FILES, Row, lander, local_settings, run_crafted_batch  # noqa: E402
from msf_support import DEPENDENCY_JAR, RECORDS, MsfLake, local_profile_outputs  # noqa: E402

from tests.local_aws.client import Lake  # noqa: E402
from tests.local_aws.moto import DUMMY_AWS_ENV, MotoServer  # noqa: E402

# The AWS SDK in Flink's JVM reads credentials and region from the environment, which the JVM inherits when
# PyFlink starts it (once per test process): dummy values only, set before any JVM starts. Never real keys.
# Only in the PyFlink venv: the main venv's tests (which collect this file too) keep their own environment.
if importlib.util.find_spec("pyflink") is not None:
    os.environ.update(DUMMY_AWS_ENV)


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


# --- the msf profile on a local AWS (moto) and the real Iceberg connector ---------------------------------


@pytest.fixture(scope="session")
def local_aws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    """One moto server (Glue, S3, STS) on a free 127.0.0.1 port for the whole run, stopped at the end."""
    with MotoServer(log_path=tmp_path_factory.mktemp("moto") / "moto.log") as server:
        yield server


@pytest.fixture(scope="session")
def dependency_jar() -> Path:
    """The jar ``make jar`` builds (``make test`` builds it first): a missing jar fails, it never skips."""
    if not DEPENDENCY_JAR.is_file():
        pytest.fail(f"{DEPENDENCY_JAR} is missing: run `make jar` (make test builds it)")
    return DEPENDENCY_JAR


@pytest.fixture(scope="session")
def new_msf_lake(pyflink: Any, local_aws: MotoServer, dependency_jar: Path) -> Callable[[str], MsfLake]:
    """A factory: ``new_msf_lake("name")`` creates a Glue database ``name`` with the four tables of
    ``config/tables.yaml`` (as the catalog stack declares them) on the shared moto server, so each test
    writes its own sinks."""

    def create(database: str, **kwargs: Any) -> MsfLake:
        lake = Lake(local_aws.url, database=database)
        info = lake.create(**kwargs)
        return MsfLake(lake=lake, endpoint=local_aws.url, warehouse=info["warehouse"], database=database)

    return create


@pytest.fixture(scope="session")
def local_expected(pyflink: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Row]]:
    """The local profile's batch output on the msf end-to-end records (``msf_support.RECORDS``)."""
    return local_profile_outputs(tmp_path_factory.mktemp("local_expected"), RECORDS)
