"""app.py as the CDK CLI runs it: a bad config stops synth with one message and writes nothing."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run_app(tmp_path: Path, context: dict[str, str]) -> tuple[subprocess.CompletedProcess[str], Path]:
    outdir = tmp_path / "cdk.out"
    env = {
        **os.environ,
        "CDK_CONTEXT_JSON": json.dumps(context),
        "CDK_OUTDIR": str(outdir),
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    }
    result = subprocess.run(
        [sys.executable, str(ROOT / "app.py")],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        cwd=tmp_path,
    )
    return result, outdir


@pytest.fixture
def bad_config(tmp_path: Path) -> Path:
    config = tmp_path / "config"
    shutil.copytree(ROOT / "config", config)
    prod = config / "environments" / "prod.yaml"
    prod.write_text(prod.read_text().replace("cidr: 10.30.0.0/16", "cidr: 10.30.0.0/33"))
    return config


def test_invalid_config_gives_one_clear_error_and_no_traceback(tmp_path: Path, bad_config: Path) -> None:
    result, outdir = run_app(tmp_path, {"config_dir": str(bad_config)})
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[0] == "unilake: invalid configuration, nothing synthesized:"
    # shown relative to the working directory (tmp_path), as the user would type it
    assert bad_config.parent == tmp_path
    assert lines[1].startswith("config/environments/prod.yaml: network.cidr: '10.30.0.0/33' is not an IPv4")
    assert len(lines) == 2
    assert not outdir.exists()


def test_unknown_environment_is_refused(tmp_path: Path) -> None:
    result, outdir = run_app(tmp_path, {"config_dir": str(ROOT / "config"), "environments": "qa"})
    assert result.returncode == 2
    assert "unknown environment 'qa' (known: dev, prod, staging)" in result.stderr
    assert "Traceback" not in result.stderr
    assert not outdir.exists()


def test_a_registry_without_a_table_the_job_writes_is_refused(tmp_path: Path) -> None:
    import yaml

    config = tmp_path / "config"
    shutil.copytree(ROOT / "config", config)
    registry = config / "tables.yaml"
    data = yaml.safe_load(registry.read_text())
    data["tables"] = [table for table in data["tables"] if table["name"] != "quarantine"]
    registry.write_text(yaml.safe_dump(data, sort_keys=False))
    from app import cdk_json_context

    context = {**cdk_json_context(ROOT), "config_dir": str(config), "environments": "dev"}
    result, outdir = run_app(tmp_path, context)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert (
        f"unilake: invalid configuration, nothing synthesized:\n{config}/tables.yaml: the job writes 'quarantine', "
        "which is not a sink table of the registry"
    ) in result.stderr
    assert not list(outdir.glob("**/*.template.json"))
