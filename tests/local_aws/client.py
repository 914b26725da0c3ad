"""Drive ``tests/local_aws/lake.py`` (pyiceberg, ``.venv``) from any venv through its command line.

Standard library only (and the job's property names, plain Python): the PyFlink suite (``.venv-flink``,
whose pyarrow pyiceberg cannot use) creates the tables, lands commits and reads the sinks back with it. Each
call is one short ``.venv`` process.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flink_app.unilake_job import properties as job

from .moto import DUMMY_AWS_ENV, MAIN_VENV_BIN, REGION, REPO_ROOT


def msf_property_map(endpoint: str, *, warehouse: str, database: str, mode: str, **extra: str) -> dict[str, str]:
    """The msf profile's settings for the lake on the moto server at ``endpoint``: its endpoints, path-style
    access and region are the job's optional catalog settings; everything else is what Managed Flink gets."""
    return {
        job.KEY_PROFILE: "msf",
        job.KEY_MODE: mode,
        job.KEY_WAREHOUSE: warehouse,
        job.KEY_DATABASE: database,
        job.KEY_CATALOG_GLUE_ENDPOINT: endpoint,
        job.KEY_CATALOG_S3_ENDPOINT: endpoint,
        job.KEY_CATALOG_S3_PATH_STYLE_ACCESS: "true",
        job.KEY_CATALOG_CLIENT_REGION: REGION,
        **extra,
    }


class LakeError(RuntimeError):
    """The lake command line failed; the message carries its stderr."""


@dataclass(frozen=True)
class Lake:
    """The Iceberg lake on the moto server at ``endpoint`` (see ``lake.py`` for the commands)."""

    endpoint: str
    database: str | None = None

    def _command(self, *args: str) -> list[str]:
        base = [str(MAIN_VENV_BIN / "python"), "-m", "tests.local_aws.lake", "--endpoint", self.endpoint]
        if self.database:
            base += ["--database", self.database]
        return [*base, *args]

    def _run(self, *args: str) -> Any:
        env = {**os.environ, **DUMMY_AWS_ENV, "PYTHONPATH": str(REPO_ROOT)}
        done = subprocess.run(self._command(*args), cwd=REPO_ROOT, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise LakeError(f"lake {args[0]} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
        return json.loads(done.stdout)

    def create(
        self, *, tables: Sequence[str] = (), without_columns: Sequence[str] = (), copies: Sequence[str] = ()
    ) -> dict[str, Any]:
        args = ["create", "--tables", ",".join(tables)]
        for column in without_columns:
            args += ["--without-column", column]
        for name in copies:
            args += ["--copy", name]
        result: dict[str, Any] = self._run(*args)
        return result

    def append(self, commits: Sequence[Sequence[dict[str, Any]]], *, gap_s: float = 0.0) -> list[dict[str, Any]]:
        """Each list of typed rows as one Iceberg commit to ``transactions``, ``gap_s`` apart (blocking)."""
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as file:
            json.dump([list(rows) for rows in commits], file)
        try:
            result: list[dict[str, Any]] = self._run("append", "--commits", file.name, "--gap", str(gap_s))
            return result
        finally:
            Path(file.name).unlink()

    def append_in_background(
        self, commits: Sequence[Sequence[dict[str, Any]]], *, gap_s: float, workdir: Path
    ) -> subprocess.Popen[str]:
        """Start a producer that lands the commits ``gap_s`` apart while the caller goes on (``.wait()`` it)."""
        path = workdir / "commits.json"
        path.write_text(json.dumps([list(rows) for rows in commits]), encoding="utf-8")
        env = {**os.environ, **DUMMY_AWS_ENV, "PYTHONPATH": str(REPO_ROOT)}
        return subprocess.Popen(
            self._command("append", "--commits", str(path), "--gap", str(gap_s)),
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def evolve(self) -> dict[str, Any]:
        """A new optional column and int -> long on ``transactions`` (lake.evolve)."""
        result: dict[str, Any] = self._run("evolve")
        return result

    def delete(self, *, region: str) -> dict[str, Any]:
        """A delete snapshot on ``transactions`` (lake.delete)."""
        result: dict[str, Any] = self._run("delete", "--region", region)
        return result

    def generate(self, rows: int) -> dict[str, Any]:
        """``rows`` generated transactions appended to ``transactions`` (``{"rows": n, "commits": n}``)."""
        result: dict[str, Any] = self._run("generate", "--rows", str(rows))
        return result

    def read(self, tables: Sequence[str] = ("sales_per_minute", "fraud_alerts", "quarantine")) -> dict[str, Any]:
        """``{table: {"rows": [...], "snapshots": [...]}}``: rows with decimals as strings, timestamps ISO."""
        result: dict[str, Any] = self._run("read", "--tables", ",".join(tables))
        return result
