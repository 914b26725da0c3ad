"""The pipeline's semantics on real local PyFlink jobs (no mocks): batch, streaming, late data, restore."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from flink_test_support import (
    CRAFTED_BLANK_LINES,
    CRAFTED_FILES,
    CRAFTED_REPLAYS,
    Row,
    comparable,
    in_progress_files,
    lander,
    local_settings,
    outputs,
    read_table,
    run_crafted_batch,
    tx,
)

T = "2026-11-25T"


def sales_key(row: Row) -> tuple[str, str, str]:
    return (row["region"], row["store_id"], row["window_start"])


def test_sales_per_minute_counts_each_transaction_once(batch_result: dict[str, list[Row]]) -> None:
    sales = {sales_key(r): r for r in batch_result["sales_per_minute"]}
    expected = {
        ("eu", "S1", f"{T}10:00:00Z"): (6, 7, "60.00"),  # v1..v5 + m1
        ("eu", "S2", f"{T}10:00:00Z"): (2, 5, "47.50"),  # m2 + d1 (its replay counted once)
        ("eu", "S3", f"{T}10:00:00Z"): (3, 7, "20009.99"),  # m3 + h1 + h2
        ("us", "S4", f"{T}10:00:00Z"): (1, 1, "0.00"),  # a zero price is valid
        ("ap", "S1", f"{T}10:01:00Z"): (2, 2, "2.00"),  # b1 (and its replay) + b4
        ("ap", "S2", f"{T}10:01:00Z"): (2, 2, "2.00"),
        ("ap", "S3", f"{T}10:01:00Z"): (2, 2, "2.00"),
        ("eu", "S1", f"{T}10:02:00Z"): (2, 4, "13.32"),
    }
    assert set(sales) == set(expected)
    for key, (transactions, units, revenue) in expected.items():
        row = sales[key]
        assert (row["transactions"], row["units"], Decimal(row["revenue"])) == (
            transactions,
            units,
            Decimal(revenue),
        ), key
        assert row["window_end"] == key[2][:-6] + f"{int(key[2][-6:-4]) + 1:02d}:00Z"


def test_fraud_alerts_apply_the_three_rules(batch_result: dict[str, list[Row]]) -> None:
    alerts = {(r["rule"], r["card_id"], r["window_start"]): r for r in batch_result["fraud_alerts"]}
    assert set(alerts) == {
        ("VELOCITY", "V", f"{T}10:00:00Z"),
        ("MULTI_STORE", "M", f"{T}10:00:00Z"),
        ("HIGH_VALUE", "H", f"{T}10:00:00Z"),  # 4 x 2500.00 = 10000.00 (h2 at 9999.99 is below)
        ("VELOCITY", "B", f"{T}10:01:00Z"),  # one window raising both rules
        ("MULTI_STORE", "B", f"{T}10:01:00Z"),
    }
    velocity = alerts[("VELOCITY", "V", f"{T}10:00:00Z")]
    assert (velocity["transactions"], velocity["distinct_stores"], velocity["transaction_id"]) == (5, 1, None)
    assert Decimal(velocity["amount"]) == Decimal("50.00")
    multi = alerts[("MULTI_STORE", "M", f"{T}10:00:00Z")]
    assert (multi["transactions"], multi["distinct_stores"], Decimal(multi["amount"])) == (
        3,
        3,
        Decimal("30"),
    )
    high = alerts[("HIGH_VALUE", "H", f"{T}10:00:00Z")]
    assert (high["transactions"], high["distinct_stores"], high["transaction_id"]) == (1, 1, "h1")
    assert Decimal(high["amount"]) == Decimal("10000.00")
    assert high["window_end"] == f"{T}10:01:00Z"
    both = alerts[("VELOCITY", "B", f"{T}10:01:00Z")]
    assert (both["transactions"], both["distinct_stores"]) == (6, 3)  # the replay of b1 counted once


def test_quarantine_gives_the_first_reason_that_applies(batch_result: dict[str, list[Row]]) -> None:
    by_id = {r["transaction_id"]: r for r in batch_result["quarantine"] if r["transaction_id"]}
    assert {tid: r["reason"] for tid, r in by_id.items()} == {
        "x-missing": "MISSING_FIELD",
        "x-null-card": "MISSING_FIELD",  # before its BAD_QUANTITY
        "x-no-zone": "BAD_EVENT_TIME",
        "x-offset": "BAD_EVENT_TIME",
        "x-impossible": "BAD_EVENT_TIME",
        "x-time-and-qty": "BAD_EVENT_TIME",  # before its BAD_QUANTITY
        "x-qty-zero": "BAD_QUANTITY",
        "x-qty-frac": "BAD_QUANTITY",
        "x-qty-neg": "BAD_QUANTITY",
        "x-price-neg": "BAD_PRICE",
        "x-price-3dp": "BAD_PRICE",
        "x-price-text": "BAD_PRICE",
        "x-bom": "BAD_QUANTITY",
        "x-trailing": "MISSING_FIELD",
    }
    no_id = [r["reason"] for r in batch_result["quarantine"] if r["transaction_id"] is None and r["raw_line"] is None]
    assert no_id == ["MISSING_FIELD"]  # {}
    # The fields as received, strings included.
    frac = by_id["x-qty-frac"]
    assert (frac["quantity"], frac["unit_price"], frac["event_time"]) == ("2.5", "1.00", f"{T}10:00:16Z")
    assert frac["raw_line"] is None
    assert by_id["x-missing"]["sku"] is None
    malformed = [r for r in batch_result["quarantine"] if r["reason"] == "MALFORMED"]
    not_objects = ['"a JSON string"', "42", "[1, 2, 3]", "null", "this is not json"]
    assert sorted(r["raw_line"] for r in malformed) == not_objects
    assert all(r["transaction_id"] is None and r["quantity"] is None for r in malformed)
    assert all(r["ingest_time"] for r in batch_result["quarantine"])


def test_every_input_record_is_accounted_for(batch_result: dict[str, list[Row]]) -> None:
    received = sum(len(lines) for _, lines in CRAFTED_FILES) - CRAFTED_BLANK_LINES
    aggregated = sum(r["transactions"] for r in batch_result["sales_per_minute"])
    quarantined = len(batch_result["quarantine"])
    assert aggregated + CRAFTED_REPLAYS + quarantined == received


def test_output_values_are_iso_timestamps_and_plain_decimals(tmp_path: Path, batch_result: Any) -> None:
    # Read the raw text: no exponent notation for decimals, ISO-8601 for timestamps.
    rows = batch_result["sales_per_minute"]
    assert all(r["window_start"].endswith("Z") and "E" not in str(r["revenue"]) for r in rows)
    assert all(datetime.fromisoformat(r["ingest_time"]).tzinfo == UTC for r in batch_result["quarantine"])
    high = next(r for r in batch_result["fraud_alerts"] if r["rule"] == "HIGH_VALUE")
    assert isinstance(high["amount"], int | Decimal)  # a JSON number, not a string
    assert "E" not in str(high["amount"]).upper()


def test_streaming_output_equals_batch_output(streaming_run: Path, batch_result: dict[str, list[Row]]) -> None:
    streamed = outputs(streaming_run)
    assert comparable(streamed) == comparable(batch_result)
    assert in_progress_files(streaming_run) == []  # stopped with drain: everything committed


def test_batch_on_several_tasks_equals_one_task(
    pyflink: Any, tmp_path: Path, batch_result: dict[str, list[Row]]
) -> None:
    """At parallelism 2 every stage runs as two tasks, all at once over pipelined exchanges (a batch run's
    shuffles by transaction, store and card are real): the same output as one task."""
    assert comparable(run_crafted_batch(tmp_path, parallelism="2")) == comparable(batch_result)


def test_late_records_are_quarantined_not_lost(pyflink: Any, tmp_path: Path) -> None:
    from flink_app.unilake_job import job

    settings = local_settings(tmp_path, mode="streaming")
    first = [tx(f"a{i}", card="A", store="S1", at=f"10:05:0{i}") for i in range(10)]
    second = [
        tx("late-1", card="L", store="S2", at="10:04:00"),  # behind the watermark (10:05:09 - 5 s)
        tx("a1", card="A", store="S1", at="10:05:01"),  # a replay, also behind it: LATE, replays included
        tx("on-time", card="O", store="S3", at="10:05:30"),
    ]
    (tmp_path / "in").mkdir()
    run = job.LocalRun(checkpoint_dir=tmp_path / "chk", idle_timeout_s=3.0)
    job.run_local(
        settings,
        run=run,
        on_running=lander(tmp_path / "in", [("a.jsonl", first), ("b.jsonl", second)], gap_s=2.0),
        log=lambda _: None,
    )
    quarantine = read_table(tmp_path / "out", "quarantine")
    assert sorted((r["reason"], r["transaction_id"]) for r in quarantine) == [
        ("LATE", "a1"),
        ("LATE", "late-1"),
    ]
    sales = read_table(tmp_path / "out", "sales_per_minute")
    assert sorted((r["store_id"], r["window_start"], r["transactions"]) for r in sales) == [
        ("S1", f"{T}10:05:00Z", 10),
        ("S3", f"{T}10:05:00Z", 1),
    ]


def test_restore_from_latest_checkpoint_gives_the_uninterrupted_output(
    pyflink: Any, tmp_path: Path, streaming_run: Path
) -> None:
    from flink_app.unilake_job import job

    settings = local_settings(tmp_path, mode="streaming")
    checkpoints = tmp_path / "chk"
    inbox = tmp_path / "in"
    inbox.mkdir()
    # First run: the first two files, then an abrupt stop (cancel, no savepoint) after a commit.
    result = job.submit(settings, run=job.LocalRun(checkpoint_dir=checkpoints))
    client = result.get_job_client()
    job._wait_running(result, checkpoint_dir=checkpoints)
    lander(inbox, CRAFTED_FILES[:2], gap_s=1.5)()
    deadline = time.monotonic() + 60
    while not read_table(tmp_path / "out", "sales_per_minute") and time.monotonic() < deadline:
        time.sleep(0.5)
    assert read_table(tmp_path / "out", "sales_per_minute"), "no output committed before the interruption"
    client.cancel().result()
    latest = job.latest_checkpoint(checkpoints)
    assert latest is not None
    # Second run: restored from the latest retained checkpoint; the last file arrives afterwards.
    run = job.LocalRun(checkpoint_dir=checkpoints, restore_from=latest, idle_timeout_s=3.0)
    job.run_local(settings, run=run, on_running=lander(inbox, CRAFTED_FILES[2:], gap_s=1.5), log=lambda _: None)
    restored = comparable(outputs(tmp_path / "out"))
    uninterrupted = comparable(outputs(streaming_run))
    assert restored == uninterrupted
    assert Counter(len(v) for v in restored.values()) == Counter(len(v) for v in uninterrupted.values())
