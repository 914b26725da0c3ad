"""The msf profile's streaming source: the Iceberg table read with the DataStream API, registered as a view.

Why not a table in SQL (``CREATE TEMPORARY TABLE … LIKE`` with ``SOURCE_WATERMARK()``, as batch runs do):
Iceberg's table source takes the job's parallelism (streaming Iceberg sources do not infer theirs), and at
parallelism 2-4 a commit of fewer files than readers leaves readers without a split whose watermark holds
back every window: on Managed Flink (no stop-with-drain) no window ever closed (tests/flink_app/
test_msf_event_time.py, "without drain"). Idleness does not rescue several readers: with SOURCE_WATERMARK()
no reader can become idle (Iceberg builds the source with ``WatermarkStrategy.noWatermarks()``), and with
idleness the operators behind the readers can go idle one by one, so a window can pass a record that the
operator classifying it saw as on time: a lost record, measured (flink_app/README.md, "Idle readers").

So the source is built here, as Iceberg's docs show for split watermarks (flink-queries.md, "Emitting
watermarks"), with exactly one reader (:data:`READERS`): ``IcebergSource.forRowData()`` with the same read
options as SQL (``setAll``: streaming, monitor interval, starting position, ``watermark-column``,
``split-file-open-cost``) and ``fromSource`` with ``WatermarkStrategy.noWatermarks()``: the split watermarks
come from the reader itself (WatermarkExtractorRecordEmitter). One reader starts every file in the order of
its minimum event time (the ordered split assigner): its watermark never passes a record still to come and
is never idle, and the windows close as soon as it starts a file past them. Chained to the reader (in the
dependency jar, flink_app/src/main/java/unilake/flink):

- ``QuietWatermark`` (unless ``source.idle-timeout`` is 0): in a quiet period the split watermark stays at the
  newest file's minimum and the newest windows would wait for the next commit; after the idle timeout with
  nothing read (and no back-pressure) the watermark follows the clock, ``now - idle timeout``, so they close
  within (idle timeout + window size + one checkpoint) of the last commit. Its contract: records committed
  within (idle timeout - monitor interval) of their event time; a later one is LATE, never dropped.
- ``SkippedSnapshots``: the streaming source reads APPEND snapshots only and skips the others without a trace;
  every monitor interval this publishes how many OVERWRITE/DELETE snapshots the table holds (the gauge
  metric_names.SKIPPED_SNAPSHOTS, alarmed on in CloudWatch) and logs each new one. The job's start check
  refuses them (job.check_catalog), so the gauge counts those committed while the job runs.

Then ``rebalance()`` spreads the records over the job's parallelism, where they are classified (``LATE``
among them, sql.late_condition) and aggregated.

The DataStream becomes the view ``SOURCE_TABLE`` (``fromDataStream``), its columns those of the catalog table
(as loaded at start: an allowed schema evolution is read after a restart), plus ``rowtime`` computed from
``event_time`` with ``SOURCE_WATERMARK()``, which for a DataStream means: the stream's own watermarks.
"""

from __future__ import annotations

from typing import Any

from pyflink.common import WatermarkStrategy
from pyflink.java_gateway import get_gateway
from pyflink.table import TableEnvironment

from .metric_names import MSF_GROUP, SKIPPED_SNAPSHOTS
from .properties import format_duration
from .sql import SOURCE_TABLE, StreamSource

#: Hadoop's Configuration as the dependency jar relocates it (flink_app/pom.xml, like the AWS examples'), the
#: type of CatalogLoader.custom's parameter.
HADOOP_CONFIGURATION_PACKAGE = ("shaded", "org", "apache", "hadoop", "conf")


def _java_map(values: dict[str, str]) -> Any:
    result = get_gateway().jvm.java.util.HashMap()
    for key, value in values.items():
        result.put(key, value)
    return result


#: Iceberg reader subtasks: one (see the module docstring); the rest of the job runs at the job's parallelism.
READERS = 1

#: The operators chained to the reader (flink_app/src/main/java/unilake/flink, in the dependency jar).
QUIET_WATERMARK_CLASS = ("unilake", "flink", "QuietWatermark")
SKIPPED_SNAPSHOTS_CLASS = ("unilake", "flink", "SkippedSnapshots")

#: Operator uids: fixed, so the source's state (the enumerator's position, the reader's splits) maps onto the
#: same operator after a change elsewhere in the job, or with the quiet watermark turned on or off. Flink's
#: generated ids hash the topology: adding these chained operators changed the source's (flink_app/README.md,
#: "Upgrading").
SOURCE_UID = "unilake-iceberg-source"
QUIET_WATERMARK_UID = "unilake-quiet-watermark"
SKIPPED_SNAPSHOTS_UID = "unilake-skipped-snapshots"


def _java_class(jvm: Any, path: tuple[str, ...]) -> Any:
    node = jvm
    for name in path:
        node = getattr(node, name)
    return node


def register(t_env: TableEnvironment, source: StreamSource) -> None:
    """Build the Iceberg source of ``source`` and register it as the temporary view ``SOURCE_TABLE``.

    ``t_env`` must be a StreamTableEnvironment (job.create_table_env makes one for msf streaming) whose catalog
    ``source.catalog_name`` is registered and checked (job.check_catalog): the table's schema comes from it.
    """
    jvm = get_gateway().jvm
    iceberg = jvm.org.apache.iceberg
    identifier = iceberg.catalog.TableIdentifier.parse(f"{source.database}.{source.table}")
    catalog = t_env.get_catalog(source.catalog_name)
    assert catalog is not None, source.catalog_name
    table = catalog._j_catalog.catalog().loadTable(identifier)
    schema = table.schema()
    catalog_loader = iceberg.flink.CatalogLoader.custom(
        source.catalog_name,
        _java_map(source.catalog_properties),
        _java_class(jvm, (*HADOOP_CONFIGURATION_PACKAGE, "Configuration"))(),
        source.catalog_impl,
    )
    # Serialized into the source and into SkippedSnapshots: each task opens its own copy at run time.
    table_loader = iceberg.flink.TableLoader.fromCatalog(catalog_loader, identifier)
    iceberg_source = (
        iceberg.flink.source.IcebergSource.forRowData()
        .tableLoader(table_loader)
        .table(table)  # loaded once here
        .setAll(_java_map(source.read_options))
        .flinkConfig(t_env.get_config()._j_table_config)
        .build()
    )
    produced = iceberg.flink.util.FlinkCompatibilityUtil.toTypeInfo(iceberg.flink.FlinkSchemaUtil.convert(schema))
    j_tenv = t_env._j_tenv
    stream = (
        j_tenv.execEnv()
        .fromSource(
            iceberg_source,
            WatermarkStrategy.no_watermarks()._j_watermark_strategy,
            f"IcebergSource-{source.database}.{source.table}",
            produced,
        )
        .uid(SOURCE_UID)
        .setParallelism(READERS)
    )
    if source.idle_timeout_ms > 0:
        quiet = _java_class(jvm, QUIET_WATERMARK_CLASS)(source.idle_timeout_ms)
        name = f"QuietWatermark-{format_duration(source.idle_timeout_ms)}"
        stream = stream.transform(name, produced, quiet).uid(QUIET_WATERMARK_UID).setParallelism(READERS)
    skipped = _java_class(jvm, SKIPPED_SNAPSHOTS_CLASS)(
        table_loader,
        source.monitor_interval_ms,
        MSF_GROUP,
        SKIPPED_SNAPSHOTS,
    )
    stream = (
        stream.transform("SkippedSnapshots", produced, skipped)
        .uid(SKIPPED_SNAPSHOTS_UID)
        .setParallelism(READERS)
        .rebalance()
    )
    columns = (
        jvm.org.apache.flink.table.api.Schema.newBuilder()
        .columnByExpression("rowtime", source.rowtime)
        .watermark("rowtime", "SOURCE_WATERMARK()")
        .build()
    )
    j_tenv.createTemporaryView(f"`{SOURCE_TABLE}`", j_tenv.fromDataStream(stream, columns))
