"""The README's architecture diagram is generated from the synthesized app and must match it."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from ops import diagram
from ops.cli import main

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"


def test_the_readme_diagram_is_what_the_app_synthesizes(synthesis: Any) -> None:
    current = diagram.current_block(README.read_text(encoding="utf-8"))
    assert current is not None, "README.md has no diagram section"
    assert current == diagram.readme_block(synthesis.outdir, "dev"), (
        "README.md's architecture diagram is stale: run `make diagram` and commit README.md"
    )


def test_the_diagram_shows_the_stacks_resources_and_data_flow(synthesis: Any) -> None:
    text = diagram.mermaid(synthesis.outdir, "dev")
    for stack in ("dev-lake", "dev-network", "dev-catalog", "dev-streaming", "dev-monitoring"):
        assert f'["stack {stack}"]' in text
    assert "S3 bucket<br/>unilake-dev-lake-111111111111-eu-west-1" in text
    assert "Glue database<br/>unilake_dev" in text
    assert "Managed Flink FLINK-1_20<br/>unilake-dev<br/>parallelism 1, mode streaming" in text
    for service in ("s3 endpoint (gateway)", "glue endpoint (interface)", "sts endpoint (interface)"):
        assert service in text
    assert "table_transactions ==>|new snapshots every 30s| flink_app" in text
    for sink in ("sales_per_minute", "fraud_alerts", "quarantine"):
        assert f"flink_app ==>|commit per checkpoint| table_{sink}" in text
        assert f"table_{sink} -.-|files under warehouse/| dev_lake_LakeBucket" in text
    assert "-.-|SSE-KMS| dev_lake_LakeBucket" in text


def test_prod_differs_where_its_templates_do(synthesis: Any) -> None:
    """Not a fixed picture: prod's own names, interval and parallelism come out of prod's templates."""
    text = diagram.mermaid(synthesis.outdir, "prod")
    assert "unilake-prod<br/>parallelism 4, mode streaming" in text
    assert "table_transactions ==>|new snapshots every 10s| flink_app" in text


def test_make_diagram_rewrites_only_the_section(synthesis: Any, tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"# title\n\n{diagram.BEGIN}\nold picture\n{diagram.END}\n\nafter\n")
    out = io.StringIO()
    argv = ["diagram", "--env", "dev", "--cdk-out", str(synthesis.outdir), "--write", str(readme)]
    assert main(argv, out=out, err=io.StringIO()) == 0
    assert out.getvalue() == f"{readme}: diagram updated\n"
    text = readme.read_text()
    assert text.startswith("# title\n\n")
    assert text.endswith(f"{diagram.END}\n\nafter\n")
    assert "old picture" not in text
    assert "```mermaid\nflowchart LR\n" in text
    out = io.StringIO()
    assert main(argv, out=out, err=io.StringIO()) == 0
    assert out.getvalue() == f"{readme}: diagram already current\n"


def test_a_missing_assembly_is_one_line(tmp_path: Path) -> None:
    err = io.StringIO()
    assert main(["diagram", "--cdk-out", str(tmp_path)], out=io.StringIO(), err=err) == 1
    (line,) = err.getvalue().splitlines()
    assert line.startswith("error: ")
    assert "synthesize first (npx cdk synth -c environments=dev)" in line


@pytest.mark.parametrize("text", ["no markers", f"{diagram.BEGIN} but no end"])
def test_a_readme_without_the_section_is_refused(tmp_path: Path, text: str) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(text)
    with pytest.raises(diagram.OpsError, match="no diagram section"):
        diagram.write_block(readme, "block")
