"""``tables`` and ``smoke`` against a real moto server (Glue + S3) through pyiceberg."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest
from pyiceberg.expressions import EqualTo

from ops import lake as lake_ops
from ops.cli import main
from ops.errors import OpsError


def _tables(lake: Any, **kwargs: object) -> str:
    out = io.StringIO()
    assert lake_ops.tables(lake.catalog(), lake.env, out=out, now=datetime.now(UTC), **kwargs) == 0  # type: ignore[arg-type]
    return out.getvalue()


def _listed(text: str) -> list[str]:
    """The snapshot ids listed under the source table's "pending" line, in order."""
    section = text.split("  pending  ", 1)[1].split("\n")[1:]
    return [line.split()[0] for line in section if line.startswith("    ")]


def test_tables_show_current_and_pending_since_reader_position(lake: Any, append_transactions: Any) -> None:
    first = append_transactions(lake, "a", 3)
    second = append_transactions(lake, "b", 2)
    third = append_transactions(lake, "c", 4)

    text = _tables(lake, since_snapshot=first)

    assert f"current  {third} at" in text
    assert "added-records 4" in text
    assert "total-records 9" in text
    assert f"after snapshot {first}: 2 to read; 6 appended records" in text  # b (2) + c (4)
    assert _listed(text) == [str(third), str(second)]
    # The sink has no snapshot yet.
    assert "sales_per_minute (sink)\n  current  no snapshot yet" in text


def test_tables_without_reader_position_shows_recent_snapshots(lake: Any, append_transactions: Any) -> None:
    ids = [append_transactions(lake, f"p{index}", 1) for index in range(3)]

    text = _tables(lake, limit=2)

    assert "no reader position given" in text
    assert "newest 2 of 3" in text
    assert _listed(text) == [str(ids[2]), str(ids[1])]


def test_tables_marks_snapshots_the_streaming_reader_skips(lake: Any, append_transactions: Any) -> None:
    first = append_transactions(lake, "keep", 2)
    table = lake.catalog().load_table((lake.database, "transactions"))
    table.delete(EqualTo(term="transaction_id", value="keep-0"))

    text = _tables(lake, since_snapshot=first)

    assert "[not read: the reader streams appends only]" in text
    assert "0 appended records" in text


def test_tables_rejects_a_position_that_is_not_an_ancestor(lake: Any, append_transactions: Any) -> None:
    append_transactions(lake, "x", 1)
    with pytest.raises(OpsError, match="not an ancestor"):
        _tables(lake, since_snapshot=12345)


@pytest.mark.usefixtures("dummy_credentials")
def test_tables_through_the_cli_with_the_hidden_endpoint(prod_lake: Any, append_transactions: Any) -> None:
    """The real CLI path: names from config/environments/prod.yaml, clients pointed at moto."""
    snapshot = append_transactions(prod_lake, "cli", 2)
    out, err = io.StringIO(), io.StringIO()

    url = prod_lake.aws.endpoint_url or ""

    code = main(["tables", "--env", "prod", "--endpoint-url", url], out=out, err=err)

    assert code == 0, err.getvalue()
    for table in prod_lake.env.tables:
        assert f"{prod_lake.database}.{table.name} ({table.role})" in out.getvalue()
    assert str(snapshot) in out.getvalue()


def test_tables_names_a_missing_table(lake: Any) -> None:
    lake.catalog().drop_table((lake.database, "sales_per_minute"))
    with pytest.raises(OpsError, match=r"_t\d+\.sales_per_minute not found in the Glue Data Catalog"):
        _tables(lake)


# --- smoke ---------------------------------------------------------------------------------------------


def test_expected_aggregates_by_hand() -> None:
    t0 = datetime(2026, 11, 25, 10, 0, 58)
    rows = [
        # window 10:00:00-10:01:00: 2 x 1.50 + 1 x 3.25 = 6.25, units 3, transactions 2
        {"transaction_id": "a", "quantity": 2, "unit_price": Decimal("1.50"), "event_time": t0},
        {
            "transaction_id": "b",
            "quantity": 1,
            "unit_price": Decimal("3.25"),
            "event_time": t0 + timedelta(seconds=1),
        },
        # window 10:01:00-10:02:00: 4 x 0.99 = 3.96
        {
            "transaction_id": "c",
            "quantity": 4,
            "unit_price": Decimal("0.99"),
            "event_time": t0 + timedelta(seconds=2),
        },
    ]
    expected = lake_ops.expected_aggregates(rows, 60)
    assert expected == {
        datetime(2026, 11, 25, 10, 0): lake_ops.WindowAggregate(2, 3, Decimal("6.25")),
        datetime(2026, 11, 25, 10, 1): lake_ops.WindowAggregate(1, 4, Decimal("3.96")),
    }


def test_smoke_appends_and_waits_for_the_aggregates(lake: Any, flink_player: Any) -> None:
    out = io.StringIO()
    with flink_player(lake) as player:
        code = lake_ops.smoke(lake.catalog(), lake.env, out=out, count=7, timeout=60, poll=0.2, run_id="run1")
    assert player.errors == []
    assert code == 0
    text = out.getvalue()
    assert "appended 7 transactions" in text
    assert "marker 'smoke-run1'" in text
    assert "OK: sales_per_minute has exactly the expected aggregates for smoke-run1" in text
    assert "transactions 7/7" in text
    source = lake.catalog().load_table((lake.database, "transactions"))
    assert source.scan(row_filter=EqualTo(term="region", value="smoke-run1")).to_arrow().num_rows == 7


def test_smoke_times_out_when_nothing_appears(lake: Any) -> None:
    out = io.StringIO()
    with pytest.raises(OpsError, match=r"timed out after 1s: 0/\d+ window\(s\) for smoke-idle"):
        lake_ops.smoke(lake.catalog(), lake.env, out=out, count=3, timeout=1, poll=0.2, run_id="idle")
    assert "windows 0/" in out.getvalue()


def test_smoke_reports_wrong_aggregates(lake: Any, flink_player: Any) -> None:
    out = io.StringIO()
    with flink_player(lake, revenue_error=Decimal("0.01")), pytest.raises(OpsError, match="wrong aggregates"):
        lake_ops.smoke(lake.catalog(), lake.env, out=out, count=3, timeout=60, poll=0.2, run_id="bad")


@pytest.mark.usefixtures("dummy_credentials")
def test_smoke_timeout_through_the_cli_is_one_line_and_non_zero(prod_lake: Any) -> None:
    out, err = io.StringIO(), io.StringIO()
    url = prod_lake.aws.endpoint_url or ""
    argv = ["smoke", "--env", "prod", "--endpoint-url", url, "--count", "2", "--timeout", "1"]
    argv += ["--poll", "0.2"]

    code = main(argv, out=out, err=err)

    assert code == 1
    assert err.getvalue().startswith("error: timed out after 1s")
    assert err.getvalue().count("\n") == 1


def test_smoke_timeout_names_the_quarantine_reasons(prod_lake: Any) -> None:
    """When the job rejected the rows (e.g. LATE), the timeout says so instead of blaming the application."""
    quarantine = prod_lake.catalog().load_table((prod_lake.database, "quarantine"))
    rejected = [
        {"reason": reason, "transaction_id": f"q1-{index}", "region": "smoke-q1", "ingest_time": datetime(2026, 1, 1)}
        for index, reason in enumerate(["LATE", "LATE", "BAD_PRICE"])
    ]
    quarantine.append(pa.Table.from_pylist(rejected, schema=quarantine.schema().as_arrow()))

    with pytest.raises(OpsError, match=r"the job quarantined them \(1 BAD_PRICE, 2 LATE\)"):
        lake_ops.smoke(prod_lake.catalog(), prod_lake.env, out=io.StringIO(), count=3, timeout=0, poll=0.1, run_id="q1")


def test_smoke_can_advance_the_watermark_of_an_idle_stream(lake: Any) -> None:
    with pytest.raises(OpsError, match="timed out"):
        lake_ops.smoke(
            lake.catalog(),
            lake.env,
            out=io.StringIO(),
            count=2,
            timeout=0.5,
            poll=0.1,
            advance_watermark=True,
            run_id="tick",
        )
    source = lake.catalog().load_table((lake.database, "transactions"))
    rows = source.scan(row_filter=EqualTo(term="region", value="smoke-tick")).to_arrow().to_pylist()
    stores = sorted({row["store_id"] for row in rows})
    # The batch under test plus at least one tick row in a store of its own (ignored by the check).
    assert stores[0] == "smoke-tick"
    assert len(stores) >= 2
    assert all(store.startswith("smoke-tick-tick") for store in stores[1:])
    assert max(row["event_time"] for row in rows if row["store_id"] != "smoke-tick") >= max(
        row["event_time"] for row in rows if row["store_id"] == "smoke-tick"
    )
