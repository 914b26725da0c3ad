"""The command lines: main.py and package.py refuse bad input with one line, a non-zero exit, no traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from flink_app import package

REPO_ROOT = Path(__file__).resolve().parents[2]
MAIN = REPO_ROOT / "flink_app" / "main.py"
PACKAGE = REPO_ROOT / "flink_app" / "package.py"


# A job run in this pytest process (PyFlink's loopback mode runs the Python worker here) leaves these in
# os.environ; a child inheriting PYFLINK_GATEWAY_DISABLED takes itself for a UDF worker and refuses to start
# a gateway (pyflink/java_gateway.py launch_gateway).
PYFLINK_WORKER_VARIABLES = (
    "PYFLINK_GATEWAY_DISABLED",
    "_PYFLINK_CONN_INFO_PATH",
    "PYTHON_LOOPBACK_SERVER_ADDRESS",
    "_PYTHON_WORKER_MEMORY_LIMIT",
)


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key not in PYFLINK_WORKER_VARIABLES}
    return subprocess.run(
        [sys.executable, *map(str, args)], capture_output=True, text=True, timeout=120, check=False, env=env
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def test_main_names_file_key_and_reason(tmp_path: Path) -> None:
    settings = tmp_path / "application_properties.json"
    settings.write_text(json.dumps([{"PropertyGroupId": "unilake.job", "PropertyMap": {"profile": "msf"}}]))
    assert_one_line_error(run(MAIN, "--properties", settings), str(settings), "'warehouse'", "required")
    settings.write_text("[{")
    assert_one_line_error(run(MAIN, "--properties", settings), str(settings), "not valid JSON")


def test_main_refuses_a_missing_input_folder(tmp_path: Path) -> None:
    result = run(
        MAIN, "--properties", tmp_path / "none.json", "--profile", "local", "--input", tmp_path / "nope",
        "--output", tmp_path / "out",
    )  # fmt: skip
    assert_one_line_error(result, "--input", "not a folder")


def test_main_refuses_a_bad_override(tmp_path: Path) -> None:
    result = run(
        MAIN, "--properties", tmp_path / "none.json", "--profile", "local", "--input", tmp_path,
        "--output", tmp_path / "out", "--checkpoint-interval", "often",
    )  # fmt: skip
    assert_one_line_error(result, "error: --checkpoint-interval: expected a duration", "(got 'often')")
    assert "none.json" not in result.stderr  # the value came from the flag, not from the (absent) file


def test_a_bad_flag_is_named_even_when_a_properties_file_exists(tmp_path: Path) -> None:
    settings = tmp_path / "application_properties.json"
    settings.write_text(json.dumps([{"PropertyGroupId": "unilake.job", "PropertyMap": {"profile": "local"}}]))
    result = run(
        MAIN, "--properties", settings, "--input", tmp_path, "--output", tmp_path / "out",
        "--checkpoint-interval", "5x",
    )  # fmt: skip
    assert_one_line_error(result, "error: --checkpoint-interval: ", "(got '5x')", "sets checkpoint.interval")
    assert str(settings) not in result.stderr


def test_a_bad_value_in_the_file_names_the_file_not_a_flag(tmp_path: Path) -> None:
    settings = tmp_path / "application_properties.json"
    property_map = {"profile": "local", "checkpoint.interval": "5x"}
    settings.write_text(json.dumps([{"PropertyGroupId": "unilake.job", "PropertyMap": property_map}]))
    result = run(MAIN, "--properties", settings, "--input", tmp_path, "--output", tmp_path / "out")
    assert_one_line_error(result, f"error: {settings}: ", "key 'checkpoint.interval'", "(got '5x')")


def test_a_missing_file_is_not_named_as_the_source_of_a_setting(tmp_path: Path) -> None:
    result = run(MAIN, "--properties", tmp_path / "none.json", "--input", tmp_path, "--output", tmp_path / "out")
    assert_one_line_error(result, "none.json (not found; settings from the command line only)", "'profile'")


def test_main_without_settings_file_or_flags(tmp_path: Path) -> None:
    assert_one_line_error(run(MAIN, "--properties", tmp_path / "missing.json"), "file not found")


def make_jar(tmp_path: Path) -> Path:
    jar = tmp_path / "unilake-flink-deps.jar"
    with zipfile.ZipFile(jar, "w") as archive:
        archive.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\n")
    return jar


def test_package_builds_the_managed_flink_layout(tmp_path: Path) -> None:
    out = tmp_path / "dist" / "app.zip"
    result = run(PACKAGE, "--jar", make_jar(tmp_path), "--out", out)
    assert result.returncode == 0, result.stderr
    names = set(zipfile.ZipFile(out).namelist())
    assert {"main.py", "unilake_job/__init__.py", "unilake_job/sql.py", "lib/unilake-flink-deps.jar"} <= names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc") or "test" in n]
    assert not [n for n in names if n.startswith(("flink_app/", "tests/", "bench/"))]
    package.verify_artifact(out)


def test_package_cli_without_jar_exits_2(tmp_path: Path) -> None:
    result = run(PACKAGE, "--jar", tmp_path / "missing.jar", "--out", tmp_path / "app.zip")
    assert_one_line_error(result, "missing.jar", "dependency jar not found")
    assert not (tmp_path / "app.zip").exists()


def test_verify_artifact_refuses_a_zip_without_the_jar(tmp_path: Path) -> None:
    no_jar = tmp_path / "no-jar.zip"
    with zipfile.ZipFile(no_jar, "w") as archive:
        archive.writestr("main.py", "")
        archive.writestr("unilake_job/__init__.py", "")
    with pytest.raises(package.ArtifactError, match=r"no-jar.zip: no dependency jar under lib/"):
        package.verify_artifact(no_jar)
    no_main = tmp_path / "no-main.zip"
    with zipfile.ZipFile(no_main, "w") as archive:
        archive.writestr("lib/deps.jar", "")
        archive.writestr("unilake_job/__init__.py", "")
    with pytest.raises(package.ArtifactError, match=r"no main\.py at the root"):
        package.verify_artifact(no_main)
    not_zip = tmp_path / "not.zip"
    not_zip.write_text("hello")
    with pytest.raises(package.ArtifactError, match="not a zip file"):
        package.verify_artifact(not_zip)
    with pytest.raises(package.ArtifactError, match="artifact not found"):
        package.verify_artifact(tmp_path / "absent.zip")


# --- the local output folder: refused when it holds results, replaced with --overwrite ----------------------


def local_args(tmp_path: Path, *extra: str | Path) -> list[str | Path]:
    return [MAIN, "--properties", tmp_path / "none.json", "--profile", "local", "--mode", "batch",
            "--input", tmp_path / "in", "--output", tmp_path / "out", *extra]  # fmt: skip


def test_main_refuses_an_output_folder_holding_results(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "out" / "sales_per_minute").mkdir(parents=True)
    (tmp_path / "out" / "sales_per_minute" / "part-0").write_text("{}\n")
    result = run(*local_args(tmp_path))
    assert_one_line_error(result, "--output", str(tmp_path / "out"), "already holds results", "--overwrite")
    assert (tmp_path / "out" / "sales_per_minute" / "part-0").read_text() == "{}\n"


def test_overwrite_never_empties_a_folder_the_job_did_not_write(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "thesis.tex").write_text("precious")
    result = run(*local_args(tmp_path, "--overwrite"))
    assert_one_line_error(result, "--output", "thesis.tex", "did not write")
    assert (tmp_path / "out" / "thesis.tex").read_text() == "precious"


def test_help_explains_overwrite() -> None:
    result = run(MAIN, "--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    assert "--overwrite" in text
    assert "replace the results already in --output" in text
    assert "non-empty --output is refused" in text


def test_a_failed_batch_run_leaves_the_old_results(
    tmp_path: Path, pyflink: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The new results are staged beside OUT: a job that fails half-way leaves OUT as it was, and no staging."""
    import importlib

    main_module = importlib.import_module("flink_app.main")  # puts flink_app/ on sys.path, as on Managed Flink
    job_module = importlib.import_module("unilake_job.job")  # the module main.py uses

    def half_written_then_failed(settings: object, **_: object) -> str:
        staged = Path(settings.sink_path) / "sales_per_minute"  # type: ignore[attr-defined]
        staged.mkdir(parents=True)
        (staged / "part-new").write_text('{"half": true}\n')
        raise job_module.JobFailedError("the job failed half-way")

    monkeypatch.setattr(job_module, "run_local", half_written_then_failed)
    (tmp_path / "in").mkdir()
    (tmp_path / "out" / "sales_per_minute").mkdir(parents=True)
    (tmp_path / "out" / "sales_per_minute" / "part-old").write_text('{"old": true}\n')
    args = [str(a) for a in local_args(tmp_path, "--overwrite")[1:]]
    assert main_module.main(args) == main_module.EXIT_JOB_FAILED
    assert sorted(p.name for p in (tmp_path / "out" / "sales_per_minute").iterdir()) == ["part-old"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "out"]


def test_two_batch_runs_with_overwrite_equal_one(tmp_path: Path, pyflink: object) -> None:
    """The new user's story: a second batch run into the same folder. Without --overwrite it is refused and
    nothing changes; with it the folder holds one run's results (not two sets of part files)."""
    from flink_test_support import CRAFTED_FILES, land, outputs

    for name, lines in CRAFTED_FILES:
        land(tmp_path / "in", name, lines)
    first = run(*local_args(tmp_path))
    assert first.returncode == 0, first.stderr
    once = outputs(tmp_path / "out")
    assert all(once.values())
    refused = run(*local_args(tmp_path))
    assert_one_line_error(refused, "already holds results")
    assert outputs(tmp_path / "out") == once
    again = run(*local_args(tmp_path, "--overwrite"))
    assert again.returncode == 0, again.stderr
    twice = outputs(tmp_path / "out")
    assert {t: len(rows) for t, rows in twice.items()} == {t: len(rows) for t, rows in once.items()}
    drop_ingest = {t: sorted(str(sorted((k, v) for k, v in r.items() if k != "ingest_time")) for r in rows)
                   for t, rows in twice.items()}  # fmt: skip
    assert drop_ingest == {t: sorted(str(sorted((k, v) for k, v in r.items() if k != "ingest_time")) for r in rows)
                           for t, rows in once.items()}  # fmt: skip
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "out"]  # no staging or old folder left


def test_a_batch_run_ends_with_a_summary_and_no_foreign_warning(pyflink: object, tmp_path: Path) -> None:
    """main.py end to end on the mini-cluster: the last lines say what was read, written and quarantined."""
    from flink_test_support import CRAFTED_BLANK_LINES, CRAFTED_FILES, land

    for name, lines in CRAFTED_FILES:
        land(tmp_path / "in", name, lines)
    out = tmp_path / "out"
    result = run(MAIN, "--profile", "local", "--mode", "batch", "--input", tmp_path / "in", "--output", out)
    assert result.returncode == 0, result.stderr
    assert "pkg_resources" not in result.stderr
    lines = result.stdout.strip().splitlines()[-5:]
    read = sum(len(lines) for _, lines in CRAFTED_FILES) - CRAFTED_BLANK_LINES
    assert lines[0].startswith("done in ")
    assert f"(batch): read {read} input lines (records and malformed lines) from 3 file(s)" in lines[0]
    rows = {line.split()[0]: line.split()[1:] for line in lines[1:4]}
    parts = {table: list((out / table).glob("part-*")) for table in rows}
    for table, fields in rows.items():
        written = sum(len(p.read_text().splitlines()) for p in parts[table])
        assert int(fields[0]) == written > 0, table
    reasons = " ".join(rows["quarantine"][1:])
    assert reasons == "MALFORMED 5, BAD_EVENT_TIME 4, BAD_QUANTITY 4, MISSING_FIELD 4, BAD_PRICE 3"
    assert lines[4] == f"output: {out}/{{sales_per_minute,fraud_alerts,quarantine}}/ (JSON lines, part-* files)"
