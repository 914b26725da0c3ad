"""Shared fixtures. The CDK app is synthesized ONCE per test run (session scope) with every
environment and every check; tests read templates and the validation report from that run.

CDK imports are lazy so that the PyFlink tests (tests/flink_app, run in .venv-flink) can share
this tree without aws-cdk-lib installed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    import aws_cdk as cdk
    from aws_cdk import assertions

    from stacks.stage import UnilakeStage

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")


@dataclass
class Synthesis:
    """The result of the one shared synthesis."""

    outdir: Path
    app: cdk.App
    stages: dict[str, UnilakeStage]
    validation_error: str | None
    _templates: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)

    def stacks(self) -> Iterator[tuple[str, cdk.Stack]]:
        import aws_cdk as cdk

        for env_name, stage in self.stages.items():
            for child in stage.node.children:
                if isinstance(child, cdk.Stack):
                    yield env_name, child

    def stack(self, env_name: str, stack_id: str) -> cdk.Stack:
        import aws_cdk as cdk

        child = self.stages[env_name].node.find_child(stack_id)
        assert isinstance(child, cdk.Stack)
        return child

    def template_path(self, env_name: str, stack_id: str) -> Path:
        return self.outdir / f"assembly-{env_name}" / self.stack(env_name, stack_id).template_file

    def template_json(self, env_name: str, stack_id: str) -> dict[str, Any]:
        key = (env_name, stack_id)
        if key not in self._templates:
            self._templates[key] = json.loads(self.template_path(env_name, stack_id).read_text())
        return self._templates[key]

    def template(self, env_name: str, stack_id: str) -> assertions.Template:
        from aws_cdk import assertions

        return assertions.Template.from_json(self.template_json(env_name, stack_id))

    def all_template_paths(self) -> list[Path]:
        return sorted(self.outdir.glob("assembly-*/*.template.json"))

    @property
    def validation_report(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.outdir / "validation-report.json").read_text())
        return data


@pytest.fixture(scope="session")
def synthesis(tmp_path_factory: pytest.TempPathFactory) -> Synthesis:
    from app import build_app, cdk_json_context
    from unilake_config import load_environments

    outdir = tmp_path_factory.mktemp("cdk.out")
    environments = load_environments(ROOT / "config")
    app = build_app(environments=environments, context=cdk_json_context(ROOT), outdir=str(outdir))
    error = None
    try:
        app.synth()
    except RuntimeError as exc:  # policy validation failures still write templates and the report
        error = str(exc)
    from stacks.stage import UnilakeStage

    stages = {child.node.id: child for child in app.node.children if isinstance(child, UnilakeStage)}
    return Synthesis(outdir=outdir, app=app, stages=stages, validation_error=error)


@pytest.fixture(scope="session")
def cdk_context() -> dict[str, Any]:
    from app import cdk_json_context

    return cdk_json_context(ROOT)


# PyFlink lives in .venv-flink (its pyarrow pins clash with pyiceberg's); `make test` runs
# tests/flink_app there. In the main virtualenv they are not collected, and the header says so.
_HAS_PYFLINK = __import__("importlib.util").util.find_spec("pyflink") is not None
collect_ignore = [] if _HAS_PYFLINK else ["flink_app"]


def pytest_report_header() -> str:
    if _HAS_PYFLINK:
        return "unilake: PyFlink present; tests/flink_app collected"
    return "unilake: tests/flink_app not collected here (PyFlink is in .venv-flink; `make test-flink` runs them)"
