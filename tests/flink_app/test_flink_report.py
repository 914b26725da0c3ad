"""What a local run says: the end-of-run summary (pure Python) and the progress lines of long runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from flink_test_support import CRAFTED_FILES, land, local_settings

from flink_app.unilake_job import report


def write_part(output: Path, table: str, name: str, rows: list[dict[str, Any]]) -> Path:
    folder = output / table
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def test_the_summary_counts_only_what_this_run_committed(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_part(out, "sales_per_minute", "part-old", [{"x": 1}] * 4)
    before = report.committed_parts(out)
    write_part(out, "sales_per_minute", "part-new", [{"x": 1}] * 2)
    write_part(out, "sales_per_minute", ".part-in-progress", [{"x": 1}] * 9)  # not committed
    write_part(out, "quarantine", "part-q", [{"reason": "LATE"}, {"reason": "MALFORMED"}, {"reason": "LATE"}])
    summary = report.summarize(
        mode="streaming", elapsed_s=3.21, files_read=2, records_read=7, output=out, before=before
    )
    assert summary.rows == {"sales_per_minute": 2, "quarantine": 3}
    assert summary.quarantine_reasons == {"LATE": 2, "MALFORMED": 1}
    lines = summary.lines()
    assert lines[0] == (
        "done in 3.2 s (streaming): read 7 input lines (records and malformed lines) from 2 file(s); "
        "rows written by this run:"
    )
    assert lines[1].split() == ["sales_per_minute", "2"]
    assert lines[2].split() == ["fraud_alerts", "0"]
    assert lines[3].split() == ["quarantine", "3", "LATE", "2,", "MALFORMED", "1"]


def test_a_long_batch_run_says_it_is_still_at_work(
    pyflink: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flink_app.datagen import START, Generator
    from flink_app.unilake_job import job

    monkeypatch.setattr(job, "PROGRESS_EVERY_S", 0.05)
    for name, lines in CRAFTED_FILES:
        land(tmp_path / "in", name, lines)
    # enough records that the job runs for a while after its submission returns
    land(tmp_path / "in", "bulk.jsonl", Generator(per_second=20).lines(60_000, start=START, first_id=0))
    said: list[str] = []
    job.run_local(local_settings(tmp_path, mode="batch"), log=said.append)
    assert said, "no progress line in a run longer than the progress interval"
    assert all(line.startswith("batch job running for ") for line in said), said
    assert said[0].endswith(" s (outputs are committed when it finishes)")


def test_streaming_progress_counts_committed_lines_per_file(pyflink: Any, tmp_path: Path) -> None:
    from flink_app.unilake_job import job

    inbox = tmp_path / "in"
    land(inbox, "a.jsonl", ["{}", "{}", "  ", "{}"])  # 3 non-blank lines
    land(inbox, "b.jsonl", ["{}", "{}"])
    progress = tmp_path / "out" / "_progress"
    write_part(tmp_path / "out", "_progress", "part-1", [{"file_path": f"file://{inbox}/a.jsonl", "lines": 3}])
    write_part(tmp_path / "out", "_progress", "part-2", [{"file_path": f"file://{inbox}/b.jsonl", "lines": 1}])
    assert job._streaming_progress(inbox, progress) == (
        "read and committed 4 of 5 input lines; 1 of 2 file(s) complete"
    )
