"""``load`` and ``show`` against a real moto server (Glue + S3) through pyiceberg."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from ops import data
from ops.cli import main
from ops.errors import OpsError


def record(identifier: str, **changes: Any) -> dict[str, Any]:
    """A valid transaction with ``changes``; a change to ``...`` removes the field."""
    base: dict[str, Any] = {
        "transaction_id": identifier,
        "store_id": "s1",
        "region": "eu",
        "sku": "sku-1",
        "card_id": "card-1",
        "quantity": 2,
        "unit_price": "12.50",
        "event_time": "2026-11-25T10:00:01.5Z",
    }
    base.update(changes)
    return {key: value for key, value in base.items() if value is not ...}


def jsonl(path: Path, *records: dict[str, Any] | str) -> Path:
    lines = [item if isinstance(item, str) else json.dumps(item) for item in records]
    path.write_text("\n".join(lines) + "\n")
    return path


def snapshots(lake: Any) -> list[int]:
    table = lake.catalog().load_table((lake.database, "transactions"))
    return [snapshot.snapshot_id for snapshot in table.snapshots()]


def test_each_file_is_one_append_commit_with_typed_values(lake: Any, tmp_path: Path) -> None:
    first = jsonl(tmp_path / "a.jsonl", record("a1"), record("a2", unit_price=3, quantity=1), "")
    second = jsonl(tmp_path / "b.jsonl", record("b1", store_id=None))
    out = io.StringIO()

    assert data.load(lake.catalog(), lake.env, table_name="transactions", files=[first, second], out=out) == 0

    table = lake.catalog().load_table((lake.database, "transactions"))
    history = table.snapshots()
    assert len(history) == 2
    assert [s.summary.operation.value for s in history] == ["append", "append"]  # what the streaming job reads
    assert [s.summary.additional_properties["added-records"] for s in history] == ["2", "1"]
    rows = {row["transaction_id"]: row for row in table.scan().to_arrow().to_pylist()}
    assert rows["a1"]["unit_price"] == Decimal("12.50")
    assert rows["a2"]["unit_price"] == Decimal("3.00")
    assert rows["a1"]["event_time"] == datetime(2026, 11, 25, 10, 0, 1, 500000)  # UTC, as Iceberg timestamp
    assert rows["b1"]["store_id"] is None
    assert f"{first}: 2 records appended to {lake.database}.transactions (snapshot {history[0].snapshot_id})" in (
        out.getvalue()
    )


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("not json", "not valid JSON"),
        ("[1, 2]", "expected a JSON object, got list"),
        (record("x", colour="red"), "colour: not a column of the table"),
        (record("x", transaction_id=None), "transaction_id: required, missing or null"),
        (record("x", transaction_id=...), "transaction_id: required, missing or null"),
        (record("x", quantity="3"), 'quantity: expected a whole number, got "3"'),
        (record("x", quantity=2.5), "quantity: expected a whole number, got 2.5"),
        (record("x", quantity=2**31), "quantity: 2147483648 is out of range for int"),
        (record("x", unit_price="1.234"), "unit_price: 1.234 has more than 2 decimals"),
        (record("x", unit_price="abc"), "unit_price: 'abc' is not a number"),
        (record("x", unit_price="123456789.00"), "unit_price: 123456789.00 does not fit decimal(10, 2)"),
        (record("x", event_time="2026-11-25T10:00:01"), "event_time: expected an ISO-8601 UTC timestamp"),
        (record("x", event_time="2026-11-25T10:00:01+01:00"), "event_time: expected an ISO-8601 UTC timestamp"),
        (record("x", event_time="2026-02-30T10:00:01Z"), "event_time: '2026-02-30T10:00:01Z' is not a valid date"),
        (record("x", store_id=7), "store_id: expected a string, got 7"),
    ],
)
def test_a_record_that_does_not_fit_is_refused_with_file_line_and_reason(
    lake: Any, tmp_path: Path, line: dict[str, Any] | str, reason: str
) -> None:
    good = jsonl(tmp_path / "good.jsonl", record("g1"))
    bad = jsonl(tmp_path / "bad.jsonl", record("b1"), "", line)
    with pytest.raises(OpsError) as error:
        data.load(lake.catalog(), lake.env, table_name="transactions", files=[good, bad], out=io.StringIO())
    message = str(error.value).splitlines()
    assert message[0] == f"nothing loaded into {lake.database}.transactions: 1 record(s) do not fit its schema"
    assert message[1].startswith(f"{bad}:3: {reason}"), message[1]
    assert snapshots(lake) == []  # not even the good file


def test_every_refusal_of_every_file_is_listed(lake: Any, tmp_path: Path) -> None:
    one = jsonl(tmp_path / "one.jsonl", record("a", quantity="x"), record("b"), record("c", unit_price="x"))
    two = jsonl(tmp_path / "two.jsonl", "{")
    empty = jsonl(tmp_path / "empty.jsonl", "")
    with pytest.raises(OpsError) as error:
        data.load(lake.catalog(), lake.env, table_name="transactions", files=[one, two, empty], out=io.StringIO())
    where = [line.split(": ", 1)[0] for line in str(error.value).splitlines()[1:]]
    assert where == [f"{one}:1", f"{one}:3", f"{two}:1", f"{empty}"]


def test_only_source_tables_are_loaded(lake: Any, tmp_path: Path) -> None:
    with pytest.raises(OpsError, match="sales_per_minute is a sink table, written by the Flink job"):
        data.load(
            lake.catalog(), lake.env, table_name="sales_per_minute", files=[tmp_path / "x.jsonl"], out=io.StringIO()
        )


@pytest.mark.usefixtures("dummy_credentials")
def test_load_and_show_through_the_cli(prod_lake: Any, tmp_path: Path) -> None:
    """The real CLI path: names from config/environments/prod.yaml, clients pointed at moto."""
    url = prod_lake.aws.endpoint_url or ""
    file = jsonl(tmp_path / "cli.jsonl", record("cli-1"), record("cli-2"))
    out, err = io.StringIO(), io.StringIO()
    assert main(["load", "--env", "prod", "--endpoint-url", url, str(file)], out=out, err=err) == 0, err.getvalue()
    assert "1 commit(s)" in out.getvalue()

    bad = jsonl(tmp_path / "bad.jsonl", record("cli-3", quantity=-1.5))
    out, err = io.StringIO(), io.StringIO()
    assert main(["load", "--env", "prod", "--endpoint-url", url, str(bad)], out=out, err=err) == 1
    assert err.getvalue().startswith("error: nothing loaded into unilake_prod.transactions")
    assert f"{bad}:1: quantity: expected a whole number, got -1.5" in err.getvalue()
    assert "Traceback" not in err.getvalue()

    out, err = io.StringIO(), io.StringIO()
    argv = ["show", "--env", "prod", "--endpoint-url", url, "--table", "transactions", "--since", "3650d"]
    assert main(argv, out=out, err=err) == 0, err.getvalue()
    assert "cli-1" in out.getvalue()
    assert "cli-3" not in out.getvalue()


def test_show_prints_counts_and_the_newest_rows(lake: Any) -> None:
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    sink = lake.catalog().load_table((lake.database, "sales_per_minute"))
    rows = [
        {
            "region": "eu",
            "store_id": f"s{minute}",
            "window_start": datetime(2026, 11, 25, 11, minute) - timedelta(days=2 if minute == 0 else 0),
            "window_end": datetime(2026, 11, 25, 11, minute + 1),
            "transactions": minute,
            "units": minute,
            "revenue": Decimal(minute),
        }
        for minute in range(5)
    ]
    sink.append(pa.Table.from_pylist(rows, schema=sink.schema().as_arrow()))
    out = io.StringIO()

    code = data.show(lake.catalog(), lake.env, table_name="sales_per_minute", out=out, now=now, since=86_400, limit=2)
    assert code == 0

    text = out.getvalue().splitlines()
    assert text[0] == f"{lake.database}.sales_per_minute"
    assert "total-records 5" in text[1]
    assert text[2] == "  rows with window_start since 2026-11-24 12:00:00 UTC: 4"  # the 2-day-old row is out
    assert text[3] == "  newest 2 by window_start:"
    assert text[4].split() == ["region", "store_id", "window_start", "window_end", "transactions", "units", "revenue"]
    assert [line.split()[1] for line in text[5:]] == ["s4", "s3"]
    assert text[5].split()[2] == "2026-11-25T11:04:00Z"


def test_show_an_empty_table(lake: Any) -> None:
    out = io.StringIO()
    now = datetime.now(UTC)
    assert data.show(lake.catalog(), lake.env, table_name="sales_per_minute", out=out, now=now, since=60, limit=5) == 0
    assert "no snapshot yet: the table is empty" in out.getvalue()
