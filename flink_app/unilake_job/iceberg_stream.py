"""The msf profile's streaming source: the Iceberg table read with the DataStream API, registered as a view.

Why not a table in SQL (``CREATE TEMPORARY TABLE … LIKE`` with ``SOURCE_WATERMARK()``, as batch runs do):
with a source watermark the planner hands the watermark to the source, and Iceberg's table source builds its
``IcebergSource`` with ``WatermarkStrategy.noWatermarks()`` (``IcebergSource.Builder.buildStream``), so no
reader ever becomes idle, whatever ``table.exec.source.idle-timeout`` says (that option only reaches the
watermark assigners the planner adds itself). Streaming Iceberg sources do not infer their parallelism: at
parallelism 2-4 a commit of fewer files than readers leaves readers without a split, and their watermark
holds back every window (tests/flink_app/test_msf_event_time.py, "idle readers").

By default one reader (``source.parallelism`` = 1) reads every file, in the order of their minimum event time
(the ordered split assigner), while the rest of the job runs at the job's parallelism: its watermark is
never idle, never passes a record still to come, and the windows close as soon as it starts a newer file.
Several readers are for sources too large for one; they need the idle timeout below, with its price.

So the source is built here, as Iceberg's docs show for split watermarks (flink-queries.md, "Emitting
watermarks"): ``IcebergSource.forRowData()`` with the same read options as SQL (``setAll``: streaming,
monitor interval, starting position, ``watermark-column``, ``split-file-open-cost``) and ``fromSource`` with
``WatermarkStrategy.noWatermarks()``: the split watermarks come from the reader itself
(WatermarkExtractorRecordEmitter). Then:

- With several readers, ``unilake.flink.IdleWhenSilent`` (flink_app/src/main/java, in the dependency jar),
  chained to each reader:
  no record and no watermark for ``source.idle-timeout`` and the reader's output is idle, so it no longer
  holds the watermark back; its next record or watermark makes it active again. ``withIdleness`` on the
  source is not enough in Flink 1.20: a reader whose splits are finished has no split output left to go idle
  and keeps its last split watermark (measured: with one file per commit at parallelism 4 a window closed
  only once each of the four readers had started a newer file). The price: a reader idle between commits
  that opens its next file more slowly than another reader opens a newer one finds the watermark past its
  file's first records, which are then ``LATE`` (counted, never lost).
- ``rebalance()``: the records are classified (``LATE`` among them, sql.late_condition) behind an exchange,
  against the watermark merged over every reader that is not idle, the watermark the windows use. Classified
  in the reader's own subtask, a reader coming back from idleness with an older split would see its own lower
  watermark and pass records the windows have already closed on: dropped without a trace. Behind the
  exchange those records are ``LATE``, in quarantine and counted.

The DataStream becomes the view ``SOURCE_TABLE`` (``fromDataStream``), its columns those of the catalog table
(as loaded at start: an allowed schema evolution is read after a restart), plus ``rowtime`` computed from
``event_time`` with ``SOURCE_WATERMARK()``, which for a DataStream means: the stream's own watermarks.
"""

from __future__ import annotations

from typing import Any

from pyflink.common import WatermarkStrategy
from pyflink.java_gateway import get_gateway
from pyflink.table import TableEnvironment

from .sql import SOURCE_TABLE, StreamSource

#: Hadoop's Configuration as the dependency jar relocates it (flink_app/pom.xml, like the AWS examples'), the
#: type of CatalogLoader.custom's parameter.
HADOOP_CONFIGURATION_PACKAGE = ("shaded", "org", "apache", "hadoop", "conf")


def _java_map(values: dict[str, str]) -> Any:
    result = get_gateway().jvm.java.util.HashMap()
    for key, value in values.items():
        result.put(key, value)
    return result


#: The operator that marks a silent reader idle (flink_app/src/main/java/unilake/flink/IdleWhenSilent.java).
IDLE_WHEN_SILENT_CLASS = ("unilake", "flink", "IdleWhenSilent")


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
    schema = catalog._j_catalog.catalog().loadTable(identifier).schema()
    catalog_loader = iceberg.flink.CatalogLoader.custom(
        source.catalog_name,
        _java_map(source.catalog_properties),
        _java_class(jvm, (*HADOOP_CONFIGURATION_PACKAGE, "Configuration"))(),
        source.catalog_impl,
    )
    iceberg_source = (
        iceberg.flink.source.IcebergSource.forRowData()
        .tableLoader(iceberg.flink.TableLoader.fromCatalog(catalog_loader, identifier))
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
        .setParallelism(source.parallelism)
    )
    if source.parallelism > 1 and source.idle_timeout_ms > 0:
        idle_when_silent = _java_class(jvm, IDLE_WHEN_SILENT_CLASS)(source.idle_timeout_ms)
        stream = stream.transform(
            f"IdleWhenSilent-{source.idle_timeout_ms}ms", produced, idle_when_silent
        ).setParallelism(source.parallelism)
    stream = stream.rebalance()
    columns = (
        jvm.org.apache.flink.table.api.Schema.newBuilder()
        .columnByExpression("rowtime", source.rowtime)
        .watermark("rowtime", "SOURCE_WATERMARK()")
        .build()
    )
    j_tenv.createTemporaryView(f"`{SOURCE_TABLE}`", j_tenv.fromDataStream(stream, columns))
