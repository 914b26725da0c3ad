"""The job's own metrics (msf profile): per-reason quarantine counts and the aggregated records beside them.

Two Python scalar functions, identities on the value they count, so the SQL stays declarative: they run
only on quarantined records and on the sales rows (one per region, store and window), never on every valid
record. Names in :mod:`metric_names`.
"""

from __future__ import annotations

from typing import Any

from pyflink.table import DataTypes, TableEnvironment
from pyflink.table.udf import FunctionContext, ScalarFunction, udf

from . import metric_names as names
from .schemas import REASONS


class _Counting(ScalarFunction):  # type: ignore[misc]
    def is_deterministic(self) -> bool:
        return False  # counts as a side effect: never folded, never called twice for one value


class CountQuarantined(_Counting):
    """``reason`` unchanged; counts it under ``kinesisanalytics.QuarantineReason.<reason>``."""

    def open(self, function_context: FunctionContext) -> None:
        group = function_context.get_metric_group().add_group(names.MSF_GROUP)
        self.counters: dict[str, Any] = {}
        self.meters: dict[str, Any] = {}
        for reason in REASONS:
            by_reason = group.add_group(names.REASON_DIMENSION, reason)
            self.counters[reason] = by_reason.counter(names.QUARANTINED_RECORDS)
            self.meters[reason] = by_reason.meter(names.QUARANTINED_PER_SECOND, names.METER_SPAN_SECONDS)

    def eval(self, reason: str | None) -> str | None:
        if reason in self.counters:
            self.counters[reason].inc()
            self.meters[reason].mark_event()
        return reason


class CountAggregated(_Counting):
    """``records`` unchanged (a sales row's transaction count); adds it to ``kinesisanalytics`` counts."""

    def open(self, function_context: FunctionContext) -> None:
        group = function_context.get_metric_group().add_group(names.MSF_GROUP)
        self.counter = group.counter(names.AGGREGATED_RECORDS)
        self.meter = group.meter(names.AGGREGATED_PER_SECOND, names.METER_SPAN_SECONDS)

    def eval(self, records: int | None) -> int | None:
        if records:
            self.counter.inc(records)
            self.meter.mark_event(records)
        return records


def register(t_env: TableEnvironment) -> None:
    """Register the counting functions under the names the msf plan calls them by."""
    t_env.create_temporary_system_function(
        names.QUARANTINED_FUNCTION,
        udf(CountQuarantined(), [DataTypes.STRING()], DataTypes.STRING()),
    )
    t_env.create_temporary_system_function(
        names.AGGREGATED_FUNCTION,
        udf(CountAggregated(), [DataTypes.BIGINT()], DataTypes.BIGINT()),
    )
