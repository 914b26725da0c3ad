"""The schema of the table registry, ``config/tables.yaml``: every Iceberg table the stacks own.

A table is data: its columns (Iceberg primitive types with doc strings), identifier fields,
partition spec, table properties, its Glue maintenance, and — for source tables — how the
streaming reader polls it. Per-environment overrides may change only operational settings
(``streaming``, ``maintenance``, ``properties``), never the schema.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from flink_app.unilake_job import properties as job_properties

from .durations import Seconds, SecondsOrZero, format_seconds

_PRIMITIVES = frozenset(
    {
        "boolean",
        "int",
        "long",
        "float",
        "double",
        "date",
        "time",
        "timestamp",
        "timestamptz",
        "string",
        "uuid",
        "binary",
    }
)
_DECIMAL = re.compile(r"^decimal\((\d+),\s*(\d+)\)$")
_FIXED = re.compile(r"^fixed\[(\d+)\]$")
_TRANSFORM = re.compile(r"^(identity|year|month|day|hour|void)\((\w+)\)$|^(bucket|truncate)\((\d+),\s*(\w+)\)$")
_TEMPORAL = frozenset({"date", "timestamp", "timestamptz"})
_TRUNCATABLE = frozenset({"int", "long", "string", "binary"})


def _iceberg_type(value: str) -> str:
    if value in _PRIMITIVES:
        return value
    if match := _DECIMAL.match(value):
        precision, scale = int(match.group(1)), int(match.group(2))
        if not 1 <= precision <= 38 or scale > precision:
            raise ValueError(f"{value!r}: decimal precision must be 1-38 and scale at most the precision")
        return f"decimal({precision},{scale})"
    if (match := _FIXED.match(value)) and int(match.group(1)) > 0:
        return value
    raise ValueError(
        f"{value!r} is not an Iceberg primitive type "
        f"({', '.join(sorted(_PRIMITIVES))}, decimal(P,S), fixed[L]); nested types are not supported"
    )


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


Identifier = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,254}$")]


class Column(_Frozen):
    name: Identifier
    type: Annotated[str, AfterValidator(_iceberg_type)]
    doc: Annotated[str, Field(min_length=1)]
    required: bool = False


class PartitionField(_Frozen):
    transform: str
    """Iceberg transform as CloudFormation takes it: identity, day, bucket[16], truncate[4], ..."""
    source: str
    name: str


def _partition_field(text: str) -> PartitionField:
    match = _TRANSFORM.match(text.replace(" ", ""))
    if not match:
        raise ValueError(
            f"{text!r} is not a partition transform such as day(event_time), identity(region), "
            "bucket(16, card_id) or truncate(4, sku)"
        )
    if match.group(1):
        transform, source = match.group(1), match.group(2)
        name = source if transform == "identity" else f"{source}_{transform}"
        return PartitionField(transform=transform, source=source, name=name)
    transform, width, source = match.group(3), match.group(4), match.group(5)
    return PartitionField(transform=f"{transform}[{width}]", source=source, name=f"{source}_{transform}")


class StreamingReader(_Frozen):
    """How the Flink job reads a source table incrementally."""

    monitor_interval: Seconds = 30
    max_reader_downtime: Seconds = 86400
    """The longest the reader may be stopped and still resume from its last snapshot."""
    idle_timeout: SecondsOrZero = job_properties.MSF_DEFAULT_IDLE_TIMEOUT_MS // 1000
    """Quiet for this long (nothing read), the job's watermark follows the clock this far behind, so the newest
    windows close within idle_timeout + window size + one checkpoint of the last commit. The producer contract:
    records committed within (idle_timeout - monitor_interval) of their event time; later ones are LATE
    (quarantined, counted). ``0s``: never (the newest windows wait for the next commit)."""

    @model_validator(mode="after")
    def _idle_timeout_outlasts_a_poll(self) -> StreamingReader:
        if 0 < self.idle_timeout <= self.monitor_interval:
            raise ValueError(
                f"idle_timeout ({format_seconds(self.idle_timeout)}) must be longer than monitor_interval "
                f"({format_seconds(self.monitor_interval)}), or 0s for never: a commit is read up to one monitor "
                "interval after it lands, and a quiet source's watermark that follows the clock by less would "
                "pass records still to come"
            )
        return self


class Compaction(_Frozen):
    enabled: bool = True


class SnapshotRetention(_Frozen):
    enabled: bool = True
    retention_days: Annotated[int, Field(ge=1)] = 5
    snapshots_to_retain: Annotated[int, Field(ge=1)] = 1
    clean_expired_files: bool = True


class OrphanFileDeletion(_Frozen):
    enabled: bool = True
    retention_days: Annotated[int, Field(ge=1)] = 3


class Maintenance(_Frozen):
    """Glue table optimizers; safe defaults (Glue's own defaults for the retention periods)."""

    compaction: Compaction = Compaction()
    snapshot_retention: SnapshotRetention = SnapshotRetention()
    orphan_file_deletion: OrphanFileDeletion = OrphanFileDeletion()


class TableOverrides(_Frozen):
    """What one environment may change about a table: operations, never schema."""

    streaming: dict[str, object] | None = None
    maintenance: dict[str, object] | None = None
    properties: dict[str, str] | None = None


class TableSpec(_Frozen):
    """One Iceberg table, as resolved for one environment."""

    name: Identifier
    doc: Annotated[str, Field(min_length=1)]
    role: Literal["source", "sink"]
    columns: Annotated[tuple[Column, ...], Field(min_length=1)]
    identifier_fields: tuple[str, ...] = ()
    partition_spec: tuple[PartitionField, ...] = ()
    properties: dict[str, str] = Field(default_factory=dict)
    streaming: StreamingReader | None = None
    maintenance: Maintenance = Maintenance()

    @field_validator("partition_spec", mode="before")
    @classmethod
    def _parse_partition_spec(cls, value: object) -> object:
        if isinstance(value, (list, tuple)):
            return tuple(_partition_field(item) if isinstance(item, str) else item for item in value)
        return value

    @model_validator(mode="after")
    def _consistent(self) -> TableSpec:
        columns = {column.name: column for column in self.columns}
        if len(columns) != len(self.columns):
            raise ValueError("columns: duplicate column name")
        for field_name in self.identifier_fields:
            column = columns.get(field_name)
            if column is None:
                raise ValueError(f"identifier_fields: {field_name!r} is not a column of the table")
            if not column.required:
                raise ValueError(f"identifier_fields: {field_name!r} must be a required column (Iceberg rule)")
        for index, partition in enumerate(self.partition_spec):
            column = columns.get(partition.source)
            if column is None:
                raise ValueError(f"partition_spec[{index}]: partitions on {partition.source!r}, which is not a column")
            base = partition.transform.split("[")[0]
            if base in {"year", "month", "day"} and column.type not in _TEMPORAL:
                raise ValueError(f"partition_spec[{index}]: {base}() needs a date or timestamp column")
            if base == "hour" and column.type not in {"timestamp", "timestamptz"}:
                raise ValueError(f"partition_spec[{index}]: hour() needs a timestamp column")
            if base == "truncate" and column.type not in _TRUNCATABLE and not column.type.startswith("decimal"):
                raise ValueError(f"partition_spec[{index}]: truncate() needs an int, long, string or decimal column")
        if self.role == "source" and self.streaming is None:
            raise ValueError("streaming: a source table needs its streaming reader settings (monitor_interval, ...)")
        if self.role == "sink" and self.streaming is not None:
            raise ValueError("streaming: only source tables are read by the streaming job")
        if self.streaming is not None:
            retention = self.maintenance.snapshot_retention
            retention_seconds = retention.retention_days * 86400
            if retention.enabled and retention_seconds <= self.streaming.max_reader_downtime:
                raise ValueError(
                    f"maintenance.snapshot_retention.retention_days ({retention.retention_days}d) must be longer "
                    f"than streaming.max_reader_downtime ({format_seconds(self.streaming.max_reader_downtime)}): "
                    "a reader whose last snapshot was expired cannot resume"
                )
        return self

    def column(self, name: str) -> Column:
        return next(column for column in self.columns if column.name == name)


class TableEntry(TableSpec):
    """A table as written in the registry: the spec plus its per-environment overrides."""

    overrides: dict[str, TableOverrides] = Field(default_factory=dict)


class TableRegistry(_Frozen):
    tables: tuple[TableEntry, ...]

    @model_validator(mode="after")
    def _unique(self) -> TableRegistry:
        seen: set[str] = set()
        for index, table in enumerate(self.tables):
            if table.name in seen:
                raise ValueError(f"tables[{index}].name: duplicate table {table.name!r}")
            seen.add(table.name)
        return self
