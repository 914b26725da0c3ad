"""JobCode: the zip Managed Flink runs, as a CDK asset: ``main.py``, the job package and ``lib/<deps>.jar``.

Everything else under ``flink_app/`` (tests, the demo, ``pom.xml``, bytecode caches) stays out. The
dependency jar is built by Maven (``flink_app/pom.xml``) and may be missing on a machine without Maven
Central: ``has_dependency_jar`` says whether this zip carries it (the streaming stack refuses to deploy
a zip without it).
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import IgnoreMode
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

from flink_app.unilake_job.properties import DEPENDENCY_JAR_NAME

FLINK_APP_DIR = Path(__file__).resolve().parent.parent / "flink_app"
# Where the zip's lib/ entry comes from: the jar Maven builds into flink_app/lib.
DEPENDENCY_JAR = FLINK_APP_DIR / "lib" / DEPENDENCY_JAR_NAME
# gitignore syntax: exclude everything, re-include main.py, the job package and lib/*.jar, then drop caches.
CODE_EXCLUDES = (
    "*",
    "!/main.py",
    "!/unilake_job/",
    "!/unilake_job/**",
    "!/lib/",
    "!/lib/*.jar",
    "__pycache__/",
    "*.pyc",
)


class JobCode(Construct):
    """The job's code asset. ``asset`` is public; ``has_dependency_jar`` is read when synthesizing."""

    asset: s3_assets.Asset
    directory: Path

    def __init__(self, scope: Construct, construct_id: str, *, directory: Path = FLINK_APP_DIR) -> None:
        super().__init__(scope, construct_id)
        self.directory = directory
        self.asset = s3_assets.Asset(
            self, "Asset", path=str(directory), exclude=list(CODE_EXCLUDES), ignore_mode=IgnoreMode.GIT
        )

    @property
    def has_dependency_jar(self) -> bool:
        return (self.directory / "lib" / DEPENDENCY_JAR_NAME).is_file()
