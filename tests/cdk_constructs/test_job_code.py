"""JobCode: the zip holds main.py, the job package and lib/*.jar, nothing else; it knows whether the jar is in."""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk

from cdk_constructs.job_code import JobCode
from flink_app.unilake_job.properties import DEPENDENCY_JAR_NAME


def flink_app_like(root: Path, *, with_jar: bool) -> Path:
    for name in ("main.py", "demo.py", "pom.xml", "package.py", "unilake_job/job.py", "unilake_job/__init__.py"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("# code\n")
    (root / "unilake_job/__pycache__").mkdir()
    (root / "unilake_job/__pycache__/job.cpython-311.pyc").write_bytes(b"\0")
    (root / "tests").mkdir()
    (root / "tests/test_job.py").write_text("# test\n")
    (root / "lib").mkdir()
    (root / "lib/notes.txt").write_text("not a jar\n")
    if with_jar:
        (root / "lib" / DEPENDENCY_JAR_NAME).write_bytes(b"PK")
    return root


def staged_files(tmp_path: Path, *, with_jar: bool) -> tuple[set[str], bool]:
    source = flink_app_like(tmp_path / "flink_app", with_jar=with_jar)
    outdir = tmp_path / "out"
    app = cdk.App(outdir=str(outdir), builtin_cloud_formation_validation=False)
    code = JobCode(cdk.Stack(app, "Test"), "JobCode", directory=source)
    app.synth()
    staged = outdir / f"asset.{code.asset.asset_hash}"
    return {str(p.relative_to(staged)) for p in staged.rglob("*") if p.is_file()}, code.has_dependency_jar


def test_the_zip_holds_only_what_managed_flink_runs(tmp_path: Path) -> None:
    files, has_jar = staged_files(tmp_path, with_jar=True)
    assert files == {"main.py", "unilake_job/job.py", "unilake_job/__init__.py", f"lib/{DEPENDENCY_JAR_NAME}"}
    assert has_jar


def test_without_the_jar_the_zip_still_builds_and_says_so(tmp_path: Path) -> None:
    files, has_jar = staged_files(tmp_path, with_jar=False)
    assert files == {"main.py", "unilake_job/job.py", "unilake_job/__init__.py"}
    assert not has_jar
