"""The Iceberg definition of a registry table, as plain data: the one place that turns a :class:`TableSpec`
into field ids, identifier fields, partition spec, format version, properties and location.

Both the catalog stack's construct (``cdk_constructs/iceberg_table.py``, as ``IcebergTableInput``) and the
tests that create the same tables in a local moto Glue with pyiceberg (``tests/local_aws/``) build their
tables from :func:`iceberg_definition`, so what the tests run against is what CloudFormation creates.

Field ids are assigned as Iceberg does on create: columns 1..n in declared order, partition fields from
1000 (so adding a column anywhere but at the end renumbers: the registry appends).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from .tables import TableSpec

#: Iceberg table format version of every table (``IcebergInput.Version``).
ICEBERG_FORMAT_VERSION: Final = 2
#: Iceberg's PartitionSpec starts partition field ids at 1000.
FIRST_PARTITION_FIELD_ID: Final = 1000


@dataclass(frozen=True, kw_only=True)
class IcebergField:
    id: int
    name: str
    type: str
    """Iceberg primitive type as the registry spells it: string, int, decimal(10,2), timestamp, ..."""
    required: bool
    doc: str


@dataclass(frozen=True, kw_only=True)
class IcebergPartitionField:
    name: str
    source_id: int
    transform: str
    """identity, day, bucket[16], truncate[4], ... (CloudFormation's spelling)."""
    field_id: int


@dataclass(frozen=True, kw_only=True)
class IcebergTableDefinition:
    name: str
    location: str
    fields: tuple[IcebergField, ...]
    identifier_field_ids: tuple[int, ...]
    partition_fields: tuple[IcebergPartitionField, ...]
    properties: dict[str, str]
    format_version: int = ICEBERG_FORMAT_VERSION
    schema_id: int = 0
    spec_id: int = 0


def column_ids(table: TableSpec) -> dict[str, int]:
    """Iceberg field id of every column: 1..n in the registry's order."""
    return {column.name: index for index, column in enumerate(table.columns, start=1)}


def iceberg_definition(table: TableSpec, *, location: str) -> IcebergTableDefinition:
    """The Iceberg table ``table`` becomes at ``location`` (see the module docstring)."""
    ids = column_ids(table)
    return IcebergTableDefinition(
        name=table.name,
        location=location,
        fields=tuple(
            IcebergField(
                id=ids[column.name], name=column.name, type=column.type, required=column.required, doc=column.doc
            )
            for column in table.columns
        ),
        identifier_field_ids=tuple(ids[name] for name in table.identifier_fields),
        partition_fields=tuple(
            IcebergPartitionField(
                name=field.name,
                source_id=ids[field.source],
                transform=field.transform,
                field_id=FIRST_PARTITION_FIELD_ID + index,
            )
            for index, field in enumerate(table.partition_spec)
        ),
        properties=dict(table.properties),
    )
