#!/usr/bin/env python3
"""unilake's CDK app: one Stage per environment file under ``config/environments``.

The only place that reads context or the process environment. Context keys:
- ``environments``: comma-separated names to synthesize (default: every environment file);
- ``config_dir``: where the YAML lives (default: ``config`` beside this file);
- ``unilake:builtin-validation``: ``true`` turns aws-cdk-lib's built-in CloudFormation validation
  back on (off by default: it costs ~3 s per synth and cfn-lint covers it in the tests).
An invalid config stops here with one message naming the file, field and reason, exit 2.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks, PCIDSS321Checks

from nag_rules.acknowledgments import StaleAcknowledgmentError, check_acknowledgments
from nag_rules.pack import UnilakeChecks
from stacks.job_settings import RegistryMismatchError
from stacks.stage import UnilakeStage
from stacks.streaming_stack import DEPENDENCY_JAR
from unilake_config import ConfigError, Environment, load_environments

ROOT = Path(__file__).resolve().parent


def cdk_json_context(root: Path = ROOT) -> dict[str, Any]:
    """The context the CDK CLI would pass: cdk.json's ``context`` plus cdk.context.json."""
    context: dict[str, Any] = dict(json.loads((root / "cdk.json").read_text())["context"])
    cached = root / "cdk.context.json"
    if cached.exists():
        context.update(json.loads(cached.read_text()))
    return context


def enable_checks(app: cdk.App) -> None:
    """cdk-nag's packs for the frameworks regulated users must meet, and ours."""
    cdk.Validations.of(app).add_plugins(
        AwsSolutionsChecks(app),
        HIPAASecurityChecks(app),
        NIST80053R5Checks(app),
        PCIDSS321Checks(app),
        UnilakeChecks(app),
    )


def build_app(
    *,
    environments: Sequence[Environment],
    context: Mapping[str, Any] | None = None,
    outdir: str | None = None,
    builtin_validation: bool = False,
) -> cdk.App:
    app = cdk.App(
        context=dict(context) if context is not None else None,
        outdir=outdir,
        builtin_cloud_formation_validation=builtin_validation,
    )
    for environment in environments:
        UnilakeStage(app, environment=environment)
    enable_checks(app)
    return app


def cli_context() -> dict[str, Any] | None:
    """The context the CDK CLI hands its app (cdk.json, cdk.context.json and ``-c``), if launched by it.

    Read before any App exists: creating an App would already create the output directory.
    """
    if overflow := os.environ.get("CONTEXT_OVERFLOW_LOCATION_ENV"):
        return dict(json.loads(Path(overflow).read_text()))
    if text := os.environ.get("CDK_CONTEXT_JSON"):
        return dict(json.loads(text))
    return None


def main() -> int:
    context = cli_context()
    if context is None:  # plain `python app.py`
        context = cdk_json_context()
    selected = [name for name in str(context.get("environments", "")).split(",") if name.strip()]
    config_dir = Path(str(context.get("config_dir", ROOT / "config")))
    builtin = str(context.get("unilake:builtin-validation", "false")).lower() == "true"
    try:
        environments = load_environments(config_dir, only=[name.strip() for name in selected])
    except ConfigError as error:
        print(f"unilake: invalid configuration, nothing synthesized:\n{error}", file=sys.stderr)
        return 2
    if not DEPENDENCY_JAR.is_file():
        print(
            f"unilake: note: {DEPENDENCY_JAR.relative_to(ROOT)} is missing (build it: make jar); synth goes on, "
            "but CloudFormation will refuse to deploy the streaming stacks until the jar is built.",
            file=sys.stderr,
        )
    outdir = os.environ.get("CDK_OUTDIR", str(ROOT / "cdk.out"))
    try:
        app = build_app(environments=environments, context=context, outdir=outdir, builtin_validation=builtin)
    except RegistryMismatchError as error:  # the registry lacks a table the job reads or writes
        print(f"unilake: invalid configuration, nothing synthesized:\n{config_dir / str(error)}", file=sys.stderr)
        return 2
    try:
        app.synth()
    except RuntimeError as error:
        if "ValidationFailed" not in str(error):
            raise
        print(f"unilake: policy validation failed (cdk-nag / our rules): {error}", file=sys.stderr)
        return 1
    try:
        check_acknowledgments(Path(outdir))
    except StaleAcknowledgmentError as error:
        print(f"unilake: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
