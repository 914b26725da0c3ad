"""The DDL each profile produces, option by option, and the msf pipeline run on an Iceberg-shaped local source.

The msf options are checked against Iceberg's documented Flink options (docs/docs/flink-configuration.md,
flink-queries.md, FlinkReadOptions) and the Glue catalog settings (catalog-impl, io-impl, warehouse).
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from flink_test_support import CRAFTED_FILES, Row, comparable, outputs

from flink_app.datagen import typed_line
from flink_app.unilake_job import metric_names, schemas, sql
from flink_app.unilake_job.properties import parse_settings

MSF = {"profile": "msf", "warehouse": "s3://lake-bucket/warehouse", "database": "unilake"}


def settings_of(**values: str) -> Any:
    return parse_settings([{"PropertyGroupId": "unilake.job", "PropertyMap": values}])


def with_options(statement: str) -> dict[str, str]:
    """The 'key' = 'value' pairs of a WITH (...) clause or an OPTIONS(...) hint."""
    return dict(re.findall(r"'([^']*)' = '([^']*)'", statement))


def test_msf_catalog_is_iceberg_on_glue() -> None:
    settings = settings_of(**MSF)
    ddl = sql.catalog_ddl(settings)
    assert ddl.startswith("CREATE CATALOG `glue` WITH (")
    assert with_options(ddl) == {
        "type": "iceberg",
        "catalog-impl": "org.apache.iceberg.aws.glue.GlueCatalog",
        "io-impl": "org.apache.iceberg.aws.s3.S3FileIO",
        "warehouse": "s3://lake-bucket/warehouse",
        "glue.skip-archive": "true",
    }
    assert "catalog-type" not in ddl  # must be unset with catalog-impl (flink-configuration.md)


def test_msf_streaming_read_options() -> None:
    plan = sql.build_plan(settings_of(**MSF, **{"source.monitor-interval": "10s"}))
    assert plan.stream_source is not None
    read = {k: v for k, v in plan.stream_source.read_options.items() if k not in sql.SPLIT_WATERMARK_OPTIONS}
    assert read == {
        "streaming": "true",
        "monitor-interval": "10s",
        # After the latest snapshot: a start without state never reads the latest snapshot again.
        "starting-strategy": "INCREMENTAL_FROM_LATEST_SNAPSHOT_EXCLUSIVE",
    }
    from_time = sql.msf_read_options(
        settings_of(
            **MSF,
            **{
                "source.starting-strategy": "INCREMENTAL_FROM_SNAPSHOT_TIMESTAMP",
                "source.start-snapshot-timestamp": "1764000000000",
            },
        )
    )
    assert from_time["start-snapshot-timestamp"] == "1764000000000"
    # After snapshot 42, as job.start_after resolves it when 42 has a child 43: Iceberg's inclusive start at 43.
    from_snapshot = sql.msf_read_options(
        replace(
            settings_of(**MSF), source_starting_strategy="INCREMENTAL_FROM_SNAPSHOT_ID", source_start_snapshot_id=43
        )
    )
    assert from_snapshot["starting-strategy"] == "INCREMENTAL_FROM_SNAPSHOT_ID"
    assert from_snapshot["start-snapshot-id"] == "43"


def test_msf_batch_read_is_bounded_optionally_between_snapshots() -> None:
    assert sql.msf_read_options(settings_of(**MSF, mode="batch")) == {"streaming": "false"}
    between = settings_of(**MSF, mode="batch", **{"source.start-snapshot-id": "100", "source.end-snapshot-id": "200"})
    assert sql.msf_read_options(between) == {
        "streaming": "false",
        "start-snapshot-id": "100",  # exclusive: appends after it (IncrementalAppendScan)
        "end-snapshot-id": "200",  # inclusive
    }


def test_msf_streaming_source_is_the_catalog_table_with_split_watermarks_and_idle_readers() -> None:
    """Streaming: no source table in SQL; the plan carries the catalog table to read with the DataStream API
    (iceberg_stream.py): the read options of the hint plus the watermark column whose file statistics give
    each split its watermark (flink-queries.md, "Emitting watermarks"), one file per split, and the rowtime
    computed from event_time."""
    settings = settings_of(**MSF)
    plan = sql.build_plan(settings)
    assert not any(statement.startswith("CREATE TEMPORARY TABLE `unilake_source`") for statement in plan.setup)
    source = plan.stream_source
    assert source is not None
    assert (source.catalog_name, source.database, source.table) == ("glue", "unilake", "transactions")
    assert source.catalog_impl == "org.apache.iceberg.aws.glue.GlueCatalog"
    assert source.catalog_properties == sql.catalog_options(settings)
    assert source.read_options == {
        **sql.msf_read_options(settings),
        "watermark-column": "event_time",
        "split-file-open-cost": "134217728",
    }
    assert source.rowtime == "COALESCE(CAST(`event_time` AS TIMESTAMP(3)), TIMESTAMP '1970-01-01 00:00:00')"
    assert (source.idle_timeout_ms, source.monitor_interval_ms) == (300_000, 30_000)  # the msf defaults
    tuned = sql.build_plan(settings_of(**MSF, **{"source.idle-timeout": "0ms", "source.monitor-interval": "5s"}))
    assert tuned.stream_source is not None
    assert (tuned.stream_source.idle_timeout_ms, tuned.stream_source.monitor_interval_ms) == (0, 5_000)
    received = next(statement for statement in plan.setup if f"VIEW `{sql.RECEIVED_VIEW}`" in statement)
    assert "OPTIONS" not in received  # a view takes no hints: the options are the source's
    with pytest.raises(ValueError, match="msf_stream_source"):
        sql.msf_source_ddl(settings)
    assert sql.build_plan(settings_of(**MSF, mode="batch")).stream_source is None
    batch = sql.msf_source_ddl(settings_of(**MSF, mode="batch"))
    assert "WITH" not in batch
    assert batch.endswith("LIKE `glue`.`unilake`.`transactions`")
    assert "WATERMARK FOR `rowtime` AS `rowtime` - INTERVAL '5' SECOND" in batch  # ignored by a bounded run


def test_msf_never_creates_tables_and_writes_to_the_catalog_tables() -> None:
    settings = settings_of(**MSF, **{"catalog.name": "lake"})
    plan = sql.build_plan(settings)
    for statement in plan.setup:
        assert statement.startswith(("CREATE CATALOG", "CREATE TEMPORARY TABLE", "CREATE TEMPORARY VIEW"))
    # Streaming: no table at all (the source is a DataStream view, iceberg_stream.py); batch: the source only.
    assert plan.stream_source is not None
    assert sum(s.startswith("CREATE TEMPORARY TABLE") for s in plan.setup) == 0
    batch = sql.build_plan(settings_of(**MSF, mode="batch", **{"catalog.name": "lake"}))
    assert sum(s.startswith("CREATE TEMPORARY TABLE") for s in batch.setup) == 1
    targets = [insert.splitlines()[0] for insert in plan.inserts]
    assert targets == [
        "INSERT INTO `lake`.`unilake`.`sales_per_minute`",
        "INSERT INTO `lake`.`unilake`.`fraud_alerts`",
        "INSERT INTO `lake`.`unilake`.`quarantine`",
    ]
    assert plan.required_tables == (
        ("unilake", "transactions"),
        ("unilake", "sales_per_minute"),
        ("unilake", "fraud_alerts"),
        ("unilake", "quarantine"),
    )


def test_the_pipeline_is_written_once() -> None:
    for mode in ("streaming", "batch"):
        local = sql.build_plan(settings_of(profile="local", mode=mode, **{"source.path": "i", "sink.path": "o"}))
        msf = sql.build_plan(settings_of(**MSF, mode=mode))
        views = sql.pipeline_views(settings_of(**MSF, mode=mode))
        # The pipeline views, then each profile's view of the rejected records as text. In streaming the
        # LATE rule differs by profile (a watermark assigner locally, split watermarks on msf).
        local_late = sql.late_condition(
            settings_of(profile="local", mode=mode, **{"source.path": "i", "sink.path": "o"})
        )
        msf_late = sql.late_condition(settings_of(**MSF, mode=mode))
        local_views = tuple(v.replace(local_late, msf_late) for v in local.setup[-len(views) - 1 : -1])
        assert local_views == msf.setup[-len(views) - 1 : -1] == views
        assert (local.setup[-1], msf.setup[-1]) == (sql.local_rejected_view(), sql.msf_rejected_view())
        local_sinks = sql.sink_names(settings_of(profile="local", **{"source.path": "i", "sink.path": "o"}))
        msf_sinks = sql.sink_names(settings_of(**MSF))
        # Local streaming adds one insert: lines read per file, so the local driver stops once all are read.
        assert len(local.inserts) == (4 if mode == "streaming" else 3)
        for local_insert, msf_insert in zip(local.inserts[:3], msf.inserts, strict=True):
            for table in sql.OUTPUT_TABLES:
                local_insert = local_insert.replace(local_sinks[table], msf_sinks[table])
            # msf: the sales counts and quarantine reasons pass through the functions publishing them as metrics.
            uncounted = msf_insert.replace(f"{metric_names.AGGREGATED_FUNCTION}(COUNT(*))", "COUNT(*)")
            uncounted = uncounted.replace(f"{metric_names.QUARANTINED_FUNCTION}(`reason`)", "`reason`")
            assert uncounted != msf_insert or "fraud" in msf_insert
            assert local_insert == uncounted


def test_late_rule_only_in_streaming() -> None:
    local = settings_of(profile="local", **{"source.path": "i", "sink.path": "o"})
    assert "CURRENT_WATERMARK(`rowtime`) IS NOT NULL AND `rowtime` <= CURRENT_WATERMARK(`rowtime`)" in (
        sql.classified_view(local)
    )
    streaming = sql.classified_view(settings_of(**MSF))
    batch = sql.classified_view(settings_of(**MSF, mode="batch"))
    # Split watermarks: behind the watermark, or at it in the last millisecond of its window.
    assert "`rowtime` < CURRENT_WATERMARK(`rowtime`) OR `rowtime` = CURRENT_WATERMARK(`rowtime`) AND" in streaming
    assert "WHEN FALSE THEN 'LATE'" in batch
    assert streaming.replace(sql.late_condition(settings_of(**MSF)), "FALSE") == batch


def test_thresholds_and_window_come_from_settings() -> None:
    settings = settings_of(
        **MSF,
        **{
            "window.size": "2min",
            "watermark.out-of-orderness": "1500ms",
            "fraud.velocity.min-transactions": "9",
            "fraud.multi-store.min-stores": "4",
            "fraud.high-value.min-amount": "250.5",
        },
    )
    fraud = sql.fraud_insert("`f`", settings)
    assert "WHERE `transactions` >= 9" in fraud
    assert "WHERE `distinct_stores` >= 4" in fraud
    assert "`amount` >= CAST(250.50 AS DECIMAL(18, 2))" in fraud
    assert "INTERVAL '120' SECOND" in sql.once_view(settings)
    # The out-of-orderness bounds the watermark assigners: the local source, and msf batch (ignored there);
    # the msf streaming source emits split watermarks instead.
    assert "INTERVAL '1.500' SECOND(9, 3)" in sql.msf_source_ddl(replace(settings, mode="batch"))
    local = settings_of(
        profile="local", **{"source.path": "i", "sink.path": "o", "watermark.out-of-orderness": "1500ms"}
    )
    assert "INTERVAL '1.500' SECOND(9, 3)" in sql.local_source_ddl(local)


def test_local_source_and_sinks() -> None:
    streaming = settings_of(profile="local", **{"source.path": "/data/in", "sink.path": "/data/out"})
    source = sql.local_source_ddl(streaming)
    assert with_options(source) == {
        "connector": "filesystem",
        "path": "file:///data/in",
        "format": "json",  # each line parsed once, into string columns
        "json.ignore-parse-errors": "true",  # a line that is not a JSON object is quarantined from the lines
        "source.monitor-interval": "1s",  # watch the folder: the local analogue of polling snapshots
    }
    for name in schemas.RECEIVED_FIELDS:
        assert f"`{name}` STRING" in source
    lines = sql.local_lines_ddl(streaming)
    assert with_options(lines) == {
        "connector": "filesystem",
        "path": "file:///data/in",
        "format": "raw",
        "source.monitor-interval": "1s",
    }
    for ddl in (source, lines):
        assert "METADATA FROM 'file.path' VIRTUAL" in ddl
        assert "`proc` AS PROCTIME()" in ddl
    batch = settings_of(profile="local", mode="batch", **{"source.path": "/data/in", "sink.path": "/data/out"})
    for ddl in (sql.local_source_ddl(batch), sql.local_lines_ddl(batch)):
        assert "source.monitor-interval" not in with_options(ddl)
        assert "PROCTIME" not in ddl
    sink = sql.local_sink_ddl(streaming, "fraud_alerts", schemas.FRAUD_ALERTS)
    options = with_options(sink)
    assert options["path"] == "file:///data/out/fraud_alerts"
    assert options["format"] == "json"
    assert options["json.timestamp-format.standard"] == "ISO-8601"
    assert options["json.encode.decimal-as-plain-number"] == "true"
    # Part files roll within one checkpoint interval (10 s by default), so each checkpoint commits them.
    assert options["sink.rolling-policy.rollover-interval"] == "5s"
    for name, sql_type in schemas.FRAUD_ALERTS:
        # timestamps as TIMESTAMP_LTZ: the JSON format writes those with Z (session zone UTC)
        assert f"`{name}` {sql_type.replace('TIMESTAMP(', 'TIMESTAMP_LTZ(')}" in sink
    assert "`window_start` TIMESTAMP_LTZ(6)" in sink


def test_schemas_match_the_catalog_tables() -> None:
    assert [name for name, _ in schemas.QUARANTINE] == [
        "reason",
        "transaction_id",
        "store_id",
        "region",
        "sku",
        "card_id",
        "quantity",
        "unit_price",
        "event_time",
        "raw_line",
        "ingest_time",
    ]
    assert dict(schemas.SALES_PER_MINUTE)["revenue"] == "DECIMAL(18, 2)"
    assert dict(schemas.TRANSACTIONS)["unit_price"] == "DECIMAL(10, 2)"


# --- the msf statements on a real Flink planner -------------------------------------------------------------


def test_msf_pipeline_on_an_iceberg_shaped_source(
    pyflink: Any, tmp_path: Path, batch_result: dict[str, list[Row]]
) -> None:
    """The msf statements (source with typed columns, received view, pipeline) on local typed files.

    Only the Iceberg connector options are swapped for the filesystem connector; the typed rows the crafted
    input can hold give the same sales and fraud alerts as the local run, and negative quantities or prices
    (which an Iceberg int/decimal column can hold) are quarantined with their reason.
    """
    from flink_app.unilake_job import job

    inbox = tmp_path / "in"
    inbox.mkdir()
    lines = [typed for _, file_lines in CRAFTED_FILES for line in file_lines if (typed := typed_line(line))]
    (inbox / "typed.json").write_text("\n".join(lines) + "\n")
    settings = settings_of(**MSF, mode="batch")
    plan = sql.msf_plan_on_local_files(settings, typed_folder=inbox, sink_path=tmp_path)
    assert [i.split("\n", 1)[1] for i in plan.inserts] == [
        i.split("\n", 1)[1] for i in sql.build_plan(settings).inserts
    ]
    local = settings_of(profile="local", mode="batch", **{"source.path": str(inbox), "sink.path": str(tmp_path)})
    statements = job.prepare(job.create_table_env(local), local, plan)
    execution = statements.explain().split("== Optimized Execution Plan ==", 1)[1]
    # One read of the source table; the empty malformed view is pruned, not a second source.
    assert execution.count("TableSourceScan(") == 1
    assert "Values(" not in execution
    # Typed values are rendered as text only for the records quarantine keeps, not for every record.
    # (The plan reads bottom-up: the filter, then the counting Python function, then the rendering.)
    lines = execution.splitlines()
    rendering = [i for i, line in enumerate(lines) if "REPLACE(CAST(event_time" in line]
    assert len(rendering) == 1
    below = "\n".join(lines[rendering[0] : rendering[0] + 3])
    assert "PythonCalc(" in below
    assert f"{metric_names.QUARANTINED_FUNCTION}(reason)" in below
    assert "where=[reason IS NOT NULL]" in below
    statements.execute().wait()
    result = comparable(outputs(tmp_path))
    expected = comparable(batch_result)
    assert result["sales_per_minute"] == expected["sales_per_minute"]
    assert result["fraud_alerts"] == expected["fraud_alerts"]
    reasons = sorted((r["reason"], r["transaction_id"]) for r in outputs(tmp_path)["quarantine"])
    assert reasons == [("BAD_PRICE", "x-price-neg"), ("BAD_QUANTITY", "x-qty-neg"), ("BAD_QUANTITY", "x-qty-zero")]
    # The typed values as text, as a producer would have sent them.
    price_neg = next(r for r in outputs(tmp_path)["quarantine"] if r["transaction_id"] == "x-price-neg")
    assert {k: price_neg[k] for k in ("quantity", "unit_price", "event_time", "raw_line")} == {
        "quantity": "1",
        "unit_price": "-1.00",
        "event_time": "2026-11-25T10:00:17.000000Z",  # TIMESTAMP(6), the Iceberg timestamp
        "raw_line": None,
    }


def optimized_plans(tmp_path: Path) -> dict[str, str]:
    """The optimized execution plan of the local job in each mode."""
    from flink_app.unilake_job import job

    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.jsonl").write_text("{}\n")
    plans = {}
    for mode in ("batch", "streaming"):
        settings = settings_of(
            profile="local", mode=mode, **{"source.path": str(tmp_path / "in"), "sink.path": str(tmp_path)}
        )
        explain = job.prepare(job.create_table_env(settings), settings).explain()
        plans[mode] = explain.split("== Optimized Execution Plan ==", 1)[1]
    return plans


def test_the_three_outputs_share_one_deduplication(pyflink: Any, tmp_path: Path) -> None:
    """The deduplicated transactions feed sales, the card windows and HIGH_VALUE: the plan computes them once
    (``table.optimizer.reuse-optimize-block-with-digest-enabled``), not once per consumer."""
    execution = optimized_plans(tmp_path)["batch"]
    # One deduplication; at parallelism 1 without a local pre-aggregation before it (one-phase aggregation).
    assert execution.count("SortAggregate(isMerge=[false], groupBy=[transaction_id, window_start, window_end") == 1
    assert "LocalSortAggregate" not in execution
    assert "LocalHashAggregate" not in execution


def test_the_outputs_aggregate_on_the_deduplication_windows(pyflink: Any, tmp_path: Path) -> None:
    """Sales, the card windows and HIGH_VALUE use the deduplication's window columns: one window table
    function in batch, and in streaming window aggregations on those windows (append-only), not regular
    aggregations and not a second TUMBLE on the event time."""
    plans = optimized_plans(tmp_path)
    assert plans["batch"].count("WindowTableFunction(") == 1
    streaming = plans["streaming"]
    assert streaming.count("TUMBLE(time_col=[rowtime]") == 1  # the deduplication
    on_its_windows = "window=[TUMBLE(win_start=[window_start], win_end=[window_end], size=[1 min])]"
    for group in ("region, store_id", "card_id, store_id", "card_id"):
        assert f"WindowAggregate(groupBy=[{group}], {on_its_windows}" in streaming, group
    assert "GroupAggregate" not in streaming


def test_the_card_windows_aggregate_twice_on_one_shuffle(pyflink: Any, tmp_path: Path) -> None:
    """The card windows (card x store, then card) group by the windows of the level before: in batch both
    levels share one shuffle by card and window and run chained; in streaming the second level is a window
    aggregation on the same windows (append-only), not a regular aggregation."""
    plans = optimized_plans(tmp_path)
    batch = plans["batch"].splitlines()
    card = next(i for i, line in enumerate(batch) if "groupBy=[card_id, window_start, window_end]" in line)
    card_store = next(i for i, line in enumerate(batch) if "groupBy=[card_id, store_id, window_start" in line)
    assert card_store > card
    assert not [line for line in batch[card:card_store] if "Exchange(" in line]
    assert "Exchange(distribution=[hash[card_id, window_start, window_end]])" in batch[card_store + 1]
    assert (
        "WindowAggregate(groupBy=[card_id], window=[TUMBLE(win_start=[window_start], win_end=[window_end]"
        in (plans["streaming"])
    )


def test_local_batch_runs_its_stages_at_once(pyflink: Any, tmp_path: Path) -> None:
    """Locally a batch job hands records between its stages over pipelined exchanges (all stages run at
    once) on the default scheduler, which is the one that accepts them; streaming is always pipelined, and
    on Managed Flink the service owns the runtime configuration."""
    from flink_app.unilake_job import job

    local = {"profile": "local", "source.path": str(tmp_path), "sink.path": str(tmp_path)}
    options = ("execution.batch-shuffle-mode", "jobmanager.scheduler")
    for values, expected in (
        ({**local, "mode": "batch"}, ["ALL_EXCHANGES_PIPELINED", "default"]),
        ({**local, "mode": "streaming"}, ["unset", "unset"]),
        ({**MSF, "mode": "batch"}, ["unset", "unset"]),
    ):
        config = job.create_table_env(settings_of(**values)).get_config()
        assert [config.get(option, "unset") for option in options] == expected, values


EVENT_TIMES = {
    "2026-11-25T10:00:01.123Z": "2026-11-25 10:00:01.123",
    "2026-11-25T10:00:01Z": "2026-11-25 10:00:01",
    "2026-11-25T23:59:59.123456789Z": "2026-11-25 23:59:59.123",  # nanoseconds truncated to milliseconds
    "2024-02-29T00:00:00Z": "2024-02-29 00:00:00",  # leap year
    "2000-02-29T00:00:00Z": "2000-02-29 00:00:00",  # divisible by 400: leap
    "2026-04-30T00:00:00Z": "2026-04-30 00:00:00",
    "2026-12-31T00:00:00Z": "2026-12-31 00:00:00",
    "1970-01-01T00:00:00Z": "1970-01-01 00:00:00",  # valid, and equal to the placeholder of invalid ones
    "2026-11-25T10:00:01.1Z": "2026-11-25 10:00:01.100",
    "2026-11-25T10:00:01.12Z": "2026-11-25 10:00:01.120",
    "1969-12-31T23:59:59.999Z": "1969-12-31 23:59:59.999",
    "0000-01-01T00:00:00Z": "0000-01-01 00:00:00",  # the first day of Flink's TIMESTAMP range
    "9999-12-31T23:59:59.999Z": "9999-12-31 23:59:59.999",  # and its last millisecond
    "1600-02-29T12:00:00Z": "1600-02-29 12:00:00",
    "2026-02-29T00:00:00Z": None,  # not a leap year
    "1900-02-29T00:00:00Z": None,  # divisible by 100, not by 400
    "2026-02-30T00:00:00Z": None,  # CAST alone would make it March 2
    "2026-04-31T00:00:00Z": None,
    "2026-13-01T00:00:00Z": None,
    "2026-00-10T00:00:00Z": None,
    "2026-11-00T00:00:00Z": None,
    "2026-11-25T24:00:00Z": None,
    "2026-11-25T10:60:00Z": None,
    "2026-11-25T10:00:60Z": None,
    "2026-11-25T10:00:01": None,  # no zone
    "2026-11-25T10:00:01+01:00": None,
    "2026-11-25 10:00:01Z": None,
    "2026-11-25T10:00:01.Z": None,
    "2026-11-25T10:00:01Z trailing": None,
    "yesterday": None,
}


def test_event_time_validation_on_flink(pyflink: Any) -> None:
    """``iso_utc_valid`` and ``rowtime_expr`` evaluated by Flink: only times that exist, in UTC with a Z."""
    from pyflink.table import EnvironmentSettings, TableEnvironment

    t_env = TableEnvironment.create(EnvironmentSettings.in_batch_mode())
    values = ", ".join(f"({sql.sql_string(text)})" for text in EVENT_TIMES)
    query = (
        f"SELECT `t`, {sql.iso_utc_valid('`t`')}, CAST({sql.rowtime_expr('`t`')} AS STRING) "  # noqa: S608
        f"FROM (VALUES {values}) AS `v` (`t`)"
    )
    with t_env.execute_sql(query).collect() as rows:
        results = {row[0]: (row[1], row[2]) for row in rows}
    for text, expected in EVENT_TIMES.items():
        valid, rowtime = results[text]
        assert valid is (expected is not None), text
        # An invalid time gets the 1970-01-01 placeholder (behind any watermark); a valid one its value.
        assert rowtime.removesuffix(".000") == (expected or "1970-01-01 00:00:00"), text


# --- day backfills: whole event-time days, INSERT OVERWRITE ---------------------------------------------------

BACKFILL = {**MSF, "mode": "batch", "backfill.from-day": "2026-11-25", "backfill.to-day": "2026-11-25"}


def test_a_backfill_reads_every_record_of_its_days_up_to_a_snapshot() -> None:
    plan = sql.build_plan(settings_of(**BACKFILL, **{"source.end-snapshot-id": "77"}))
    view = next(s for s in plan.setup if s.startswith(f"CREATE TEMPORARY VIEW `{sql.RECEIVED_VIEW}`"))
    hint = re.search(r"/\*\+ OPTIONS\((.*)\) \*/", view)
    assert hint is not None
    # Time travel to the snapshot (Iceberg 'snapshot-id'): every record of the days up to and including it,
    # not only the appends of a snapshot range (a day is replaced whole).
    assert with_options(hint.group(1)) == {"streaming": "false", "snapshot-id": "77"}
    assert view.endswith(
        "\nWHERE `event_time` >= TIMESTAMP '2026-11-25 00:00:00' AND `event_time` < TIMESTAMP '2026-11-26 00:00:00'"
    )
    current = sql.msf_read_options(settings_of(**BACKFILL))
    assert current == {"streaming": "false"}  # no snapshot: the current one


def test_a_backfill_overwrites_sales_and_fraud_and_leaves_quarantine() -> None:
    backfill = sql.build_plan(settings_of(**BACKFILL))
    batch = sql.build_plan(settings_of(**MSF, mode="batch"))
    assert [i.split("\n", 1)[0] for i in backfill.inserts] == [
        "INSERT OVERWRITE `glue`.`unilake`.`sales_per_minute`",
        "INSERT OVERWRITE `glue`.`unilake`.`fraud_alerts`",
    ]
    assert [i.split("\n", 1)[1] for i in backfill.inserts] == [i.split("\n", 1)[1] for i in batch.inserts[:2]]
    assert all(i.startswith("INSERT INTO ") for i in batch.inserts)
    assert backfill.required_tables == batch.required_tables


def test_a_backfill_computes_exactly_its_days(pyflink: Any, tmp_path: Path) -> None:
    """The backfill statements on typed local files spanning three days: the day's windows are those of a run
    on that day's records alone; records one millisecond either side of the day are not read; running it a
    second time over its own output leaves the same rows (the local sink's overwrite replaces the table)."""
    from flink_test_support import tx

    from flink_app.unilake_job import job

    day_records = [
        tx("first", card="E", at="00:00:00"),  # the first instant of the day belongs to it
        tx("last", card="E", at="23:59:59.999"),
        *(tx(f"v{i}", card="V", store="S1", qty=1, price="10.00", at=f"10:00:0{i}") for i in range(1, 6)),
    ]
    edges = [
        tx("before", card="E", event_time="2026-11-24T23:59:59.999Z"),
        tx("after", card="E", event_time="2026-11-26T00:00:00Z"),
    ]
    for name, lines in (("all", day_records + edges), ("day", day_records)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "typed.json").write_text("\n".join(filter(None, map(typed_line, lines))) + "\n")

    def run(settings: Any, folder: str, out: str) -> dict[str, list[Row]]:
        plan = sql.msf_plan_on_local_files(settings, typed_folder=tmp_path / folder, sink_path=tmp_path / out)
        local = settings_of(profile="local", mode="batch", **{"source.path": str(tmp_path), "sink.path": "o"})
        job.prepare(job.create_table_env(local), local, plan).execute().wait()
        return outputs(tmp_path / out)

    backfill = settings_of(**BACKFILL)
    once = run(backfill, "all", "backfill")
    alone = run(settings_of(**MSF, mode="batch"), "day", "alone")
    assert comparable(once)["sales_per_minute"] == comparable(alone)["sales_per_minute"]
    assert comparable(once)["fraud_alerts"] == comparable(alone)["fraud_alerts"]
    assert sum(r["transactions"] for r in once["sales_per_minute"]) == 7  # not 'before' nor 'after'
    assert {r["window_start"][:10] for r in once["sales_per_minute"]} == {"2026-11-25"}
    assert once["quarantine"] == []
    twice = run(backfill, "all", "backfill")
    assert comparable(twice) == comparable(once)


# --- optional catalog settings (a Glue and S3 other than the region's: the local moto server) ---------------

LOCAL_AWS = {
    "catalog.glue.endpoint": "http://127.0.0.1:5000",
    "catalog.s3.endpoint": "http://127.0.0.1:5000",
    "catalog.s3.path-style-access": "true",
    "catalog.client.region": "eu-west-1",
}
LOCAL_AWS_OPTIONS = {
    "glue.endpoint": "http://127.0.0.1:5000",
    "s3.endpoint": "http://127.0.0.1:5000",
    "s3.path-style-access": "true",
    "client.region": "eu-west-1",
}


@pytest.mark.parametrize("mode", ["streaming", "batch"])
def test_without_the_optional_catalog_settings_the_msf_plan_is_unchanged(mode: str) -> None:
    """None of the endpoint, path-style or region settings has a default: without them, the plan Managed Flink
    runs is byte for byte the plan with them minus exactly their option lines (the catalog's: the source table
    is LIKE the catalog table, whose catalog properties Iceberg's FlinkCatalog.getTable passes on)."""
    plain = sql.build_plan(settings_of(**MSF, mode=mode))
    pointed = sql.build_plan(settings_of(**MSF, **LOCAL_AWS, mode=mode))
    text = "\n;\n".join((*plain.setup, *plain.inserts))
    for name, value in LOCAL_AWS_OPTIONS.items():
        assert name not in text
        assert value not in text or value == "true"
    option_lines = {f",\n  '{name}' = '{value}'" for name, value in LOCAL_AWS_OPTIONS.items()}
    stripped = "\n;\n".join((*pointed.setup, *pointed.inserts))
    for line in option_lines:
        assert stripped.count(line) == 1  # the catalog only
        stripped = stripped.replace(line, "")
    assert stripped == text
    assert pointed.required_tables == plain.required_tables
    assert with_options(sql.catalog_ddl(settings_of(**MSF, **LOCAL_AWS))).items() >= LOCAL_AWS_OPTIONS.items()
    if mode == "batch":
        batch_pointed = sql.msf_source_ddl(settings_of(**MSF, **LOCAL_AWS, mode="batch"))
        assert "LIKE `glue`.`unilake`.`transactions`" in batch_pointed
        assert batch_pointed == sql.msf_source_ddl(settings_of(**MSF, mode="batch"))
    else:  # the streaming source's catalog: the same properties as the catalog's, the endpoints included
        assert plain.stream_source is not None
        assert pointed.stream_source is not None
        assert pointed.stream_source.catalog_properties == {
            **plain.stream_source.catalog_properties,
            **LOCAL_AWS_OPTIONS,
        }


@pytest.mark.parametrize(
    ("key", "value", "reason"),
    [
        ("catalog.glue.endpoint", "127.0.0.1:5000", "expected an http(s) endpoint"),
        ("catalog.s3.endpoint", "ftp://x", "expected an http(s) endpoint"),
        ("catalog.s3.path-style-access", "yes", "must be 'true' or 'false'"),
        ("catalog.client.region", "Europe", "expected an AWS region"),
    ],
)
def test_optional_catalog_settings_are_validated(key: str, value: str, reason: str) -> None:
    with pytest.raises(ValueError, match=f"key '{re.escape(key)}': {re.escape(reason)}"):
        settings_of(**MSF, **{key: value})


def test_optional_catalog_settings_are_msf_only() -> None:
    local = {"profile": "local", "source.path": "in", "sink.path": "out"}
    with pytest.raises(ValueError, match=re.escape("key 'catalog.s3.endpoint': only allowed with profile 'msf'")):
        settings_of(**local, **{"catalog.s3.endpoint": "http://127.0.0.1:5000"})
    round_trip = settings_of(**MSF, **LOCAL_AWS)
    assert settings_of(**round_trip.to_property_map()) == round_trip
