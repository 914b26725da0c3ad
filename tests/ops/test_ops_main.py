"""``python -m ops`` under an interpreter without the project's packages: one line saying how to run it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_wrong_interpreter_gets_one_line_telling_how_to_run_the_cli() -> None:
    # -S: no site-packages, as a system Python without boto3, pydantic and pyiceberg would be
    result = subprocess.run(
        [sys.executable, "-S", "-m", "ops", "status", "--env", "prod"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert "Traceback" not in result.stderr
    assert line.startswith(f"unilake ops: {sys.executable} has no ")
    assert "`.venv/bin/python -m ops ...`" in line
