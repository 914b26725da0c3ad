"""The lake's Iceberg tables in a local moto Glue and S3, with pyiceberg (``.venv`` only).

Tables are created from ``config/tables.yaml`` by :func:`unilake_config.iceberg_definition.iceberg_definition`,
the function the catalog stack's construct uses: same schema and field ids, identifier fields, partition
spec, format version, properties and location.

Command line (JSON on stdout; what :class:`tests.local_aws.client.Lake` runs from the PyFlink venv)::

    python -m tests.local_aws.lake --endpoint URL create [--database D] [--tables a,b] [--without-column t.c]
    python -m tests.local_aws.lake --endpoint URL append --commits FILE.json [--gap S]
    python -m tests.local_aws.lake --endpoint URL read [--tables a,b]
    python -m tests.local_aws.lake --endpoint URL snapshots --table T

``append`` reads ``[[row, ...], ...]``: one list of typed transactions per commit (``quantity`` an int,
``unit_price`` a decimal string, ``event_time`` ISO-8601 without zone, as ``flink_app.datagen.typed_line``
gives them). Each commit is one ``append``: pyiceberg writes one data file per partition (day x region), so a
commit of several regions is several files spanning the same minutes, as a real writer's commit is.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

import boto3
import pyarrow as pa
from pyiceberg.catalog import Catalog, load_catalog
from pyiceberg.exceptions import NamespaceAlreadyExistsError, TableAlreadyExistsError
from pyiceberg.partitioning import PartitionField, PartitionSpec
from pyiceberg.schema import Schema
from pyiceberg.transforms import Transform, parse_transform
from pyiceberg.types import NestedField, PrimitiveType

from unilake_config import Environment, load_environments
from unilake_config.iceberg_definition import IcebergTableDefinition, iceberg_definition

from .moto import DUMMY_AWS_ENV, REGION, REPO_ROOT

#: The environment whose names (bucket, database, warehouse) the local lake uses.
ENVIRONMENT: Final = "dev"
CATALOG_NAME: Final = "unilake"


def environment() -> Environment:
    (env,) = load_environments(REPO_ROOT / "config", only=(ENVIRONMENT,))
    return env


def catalog(endpoint: str) -> Catalog:
    """pyiceberg's Glue catalog on the moto server (dummy keys, path-style S3)."""
    env = environment()
    keys = {
        "access-key-id": DUMMY_AWS_ENV["AWS_ACCESS_KEY_ID"],
        "secret-access-key": DUMMY_AWS_ENV["AWS_SECRET_ACCESS_KEY"],
        "session-token": DUMMY_AWS_ENV["AWS_SESSION_TOKEN"],
    }
    properties = {
        "type": "glue",
        "warehouse": env.config.warehouse_uri,
        "glue.endpoint": endpoint,
        "glue.region": REGION,
        "s3.endpoint": endpoint,
        "s3.region": REGION,
        "s3.force-virtual-addressing": "false",
        **{f"glue.{k}": v for k, v in keys.items()},
        **{f"s3.{k}": v for k, v in keys.items()},
    }
    return load_catalog(CATALOG_NAME, **properties)


def iceberg_schema(definition: IcebergTableDefinition, *, without: Sequence[str] = ()) -> Schema:
    """The definition as a pyiceberg schema (``without``: columns left out, for the refusal tests)."""
    fields = [
        NestedField(field.id, field.name, _primitive(field.type), required=field.required, doc=field.doc)
        for field in definition.fields
        if field.name not in without
    ]
    return Schema(*fields, schema_id=definition.schema_id, identifier_field_ids=list(definition.identifier_field_ids))


def partition_spec(definition: IcebergTableDefinition) -> PartitionSpec:
    return PartitionSpec(
        *(
            PartitionField(
                source_id=field.source_id,
                field_id=field.field_id,
                transform=_transform(field.transform),
                name=field.name,
            )
            for field in definition.partition_fields
        ),
        spec_id=definition.spec_id,
    )


def _primitive(type_name: str) -> PrimitiveType:
    parsed = NestedField.model_validate({"id": 1, "name": "x", "type": type_name, "required": False}).field_type
    assert isinstance(parsed, PrimitiveType), type_name
    return parsed


def _transform(name: str) -> Transform[Any, Any]:
    """CloudFormation's ``bucket[16]`` is Iceberg's ``bucket[16]``; ``identity``/``day`` are the same words."""
    return parse_transform(name)


def create(
    endpoint: str,
    *,
    database: str | None = None,
    tables: Sequence[str] = (),
    without_columns: Sequence[str] = (),
    copies: Sequence[str] = (),
) -> dict[str, Any]:
    """The lake bucket, the Glue database and the registry's tables (all, or ``tables``), as the catalog stack
    creates them. ``without_columns`` (``table.column``) leaves columns out, for the refusal tests; ``copies``
    are extra tables shaped like ``transactions`` (the benchmark's copy job writes one). Idempotent."""
    env = environment()
    config = env.config
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name=REGION, **_boto_keys())
    existing = {bucket["Name"] for bucket in s3.list_buckets().get("Buckets", [])}
    if config.lake_bucket_name not in existing:
        s3.create_bucket(Bucket=config.lake_bucket_name, CreateBucketConfiguration={"LocationConstraint": REGION})
    database = database or config.catalog.database_name
    iceberg = catalog(endpoint)
    with contextlib.suppress(NamespaceAlreadyExistsError):
        iceberg.create_namespace(database)
    created = []
    wanted = [(table.name, table) for table in env.tables if not tables or table.name in tables]
    wanted += [(name, env.table("transactions")) for name in copies]
    for name, table in wanted:
        location = f"{config.warehouse_uri}/{database}.db/{name}"
        definition = iceberg_definition(table, location=location)
        without = [c.split(".", 1)[1] for c in without_columns if c.split(".", 1)[0] == name]
        with contextlib.suppress(TableAlreadyExistsError):
            iceberg.create_table(
                (database, name),
                schema=iceberg_schema(definition, without=without),
                location=definition.location,
                partition_spec=partition_spec(definition),
                properties={**definition.properties, "format-version": str(definition.format_version)},
            )
            created.append(name)
    return {
        "database": database,
        "warehouse": config.warehouse_uri,
        "bucket": config.lake_bucket_name,
        "created": created,
    }


def _boto_keys() -> dict[str, str]:
    return {
        "aws_access_key_id": DUMMY_AWS_ENV["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": DUMMY_AWS_ENV["AWS_SECRET_ACCESS_KEY"],
        "aws_session_token": DUMMY_AWS_ENV["AWS_SESSION_TOKEN"],
    }


def _typed(row: dict[str, Any]) -> dict[str, Any]:
    return {
        **row,
        "quantity": int(row["quantity"]),
        "unit_price": Decimal(str(row["unit_price"])),
        "event_time": datetime.fromisoformat(str(row["event_time"])),
    }


def append(
    endpoint: str, commits: Sequence[Sequence[dict[str, Any]]], *, gap_s: float = 0.0, database: str | None = None
) -> list[dict[str, Any]]:
    """Each list of ``commits`` as one Iceberg append to ``transactions``, ``gap_s`` seconds apart; returns the
    snapshot id and the number of data files of each commit."""
    database = database or environment().config.catalog.database_name
    table = catalog(endpoint).load_table((database, "transactions"))
    schema = table.schema().as_arrow()
    done = []
    for index, rows in enumerate(commits):
        if index and gap_s:
            time.sleep(gap_s)
        table.append(pa.Table.from_pylist([_typed(row) for row in rows], schema=schema))
        snapshot = table.current_snapshot()
        assert snapshot is not None
        assert snapshot.summary is not None
        done.append(
            {
                "snapshot_id": snapshot.snapshot_id,
                "records": len(rows),
                "data_files": int(snapshot.summary["added-data-files"]),
            }
        )
    return done


def evolve(endpoint: str, *, database: str | None = None) -> dict[str, Any]:
    """Allowed schema evolution of ``transactions``: a new optional column ``channel`` and ``quantity``
    promoted from int to long. Returns the new schema id."""
    from pyiceberg.types import LongType, StringType

    database = database or environment().config.catalog.database_name
    table = catalog(endpoint).load_table((database, "transactions"))
    with table.update_schema() as update:
        update.add_column("channel", StringType(), doc="Sales channel (added later)")
        update.update_column("quantity", field_type=LongType())
    return {"schema_id": table.refresh().schema().schema_id}


def delete(endpoint: str, *, region: str, database: str | None = None) -> dict[str, Any]:
    """Delete the rows of one region from ``transactions``: a snapshot that is not an append."""
    from pyiceberg.expressions import EqualTo

    database = database or environment().config.catalog.database_name
    table = catalog(endpoint).load_table((database, "transactions"))
    table.delete(EqualTo("region", region))
    snapshot = table.current_snapshot()
    assert snapshot is not None
    assert snapshot.summary is not None
    return {"snapshot_id": snapshot.snapshot_id, "operation": snapshot.summary.operation.value}


def generate(endpoint: str, rows: int, *, minutes_per_commit: int = 10, database: str | None = None) -> dict[str, Any]:
    """``rows`` generated transactions (``flink_app.datagen``, 200 a second of event time), those a table can
    hold, appended as one commit per ``minutes_per_commit`` of event time (for the benchmark)."""
    import json as json_module

    from flink_app.datagen import Generator, typed_line

    batch: list[dict[str, Any]] = []
    commits, total, slot = 0, 0, None
    database = database or environment().config.catalog.database_name
    table = catalog(endpoint).load_table((database, "transactions"))
    schema = table.schema().as_arrow()

    def flush() -> None:
        nonlocal commits, total, batch
        if batch:
            table.append(pa.Table.from_pylist(batch, schema=schema))
            commits, total, batch = commits + 1, total + len(batch), []

    for line in Generator(per_second=200).lines(rows):
        typed = typed_line(line)
        if typed is None:
            continue
        row = _typed(json_module.loads(typed))
        current = (
            row["event_time"].replace(second=0, microsecond=0, minute=0),
            row["event_time"].minute // (minutes_per_commit),
        )
        if slot is not None and current != slot:
            flush()
        slot = current
        batch.append(row)
    flush()
    return {"rows": total, "commits": commits}


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def read(endpoint: str, tables: Sequence[str], *, database: str | None = None) -> dict[str, Any]:
    """Every row of each table (decimals as strings, timestamps ISO-8601) and its snapshots' summaries."""
    database = database or environment().config.catalog.database_name
    iceberg = catalog(endpoint)
    result: dict[str, Any] = {}
    for name in tables:
        table = iceberg.load_table((database, name))
        rows = table.scan().to_arrow().to_pylist() if table.current_snapshot() else []
        result[name] = {
            "rows": [{k: _jsonable(v) for k, v in row.items()} for row in rows],
            "snapshots": [
                {
                    "snapshot_id": s.snapshot_id,
                    "parent_id": s.parent_snapshot_id,
                    "timestamp_ms": s.timestamp_ms,
                    "summary": dict(s.summary.additional_properties) | {"operation": s.summary.operation.value}
                    if s.summary
                    else {},
                }
                for s in table.snapshots()
            ],
        }
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.local_aws.lake")
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--database")
    commands = parser.add_subparsers(dest="command", required=True)
    create_cmd = commands.add_parser("create")
    create_cmd.add_argument("--tables", default="")
    create_cmd.add_argument("--without-column", action="append", default=[])
    create_cmd.add_argument("--copy", action="append", default=[])
    generate_cmd = commands.add_parser("generate")
    generate_cmd.add_argument("--rows", type=int, required=True)
    append_cmd = commands.add_parser("append")
    append_cmd.add_argument("--commits", required=True, type=Path)
    append_cmd.add_argument("--gap", type=float, default=0.0)
    commands.add_parser("evolve")
    delete_cmd = commands.add_parser("delete")
    delete_cmd.add_argument("--region", required=True)
    read_cmd = commands.add_parser("read")
    read_cmd.add_argument("--tables", default="transactions,sales_per_minute,fraud_alerts,quarantine")
    args = parser.parse_args(argv)
    names = [name for name in getattr(args, "tables", "").split(",") if name]
    if args.command == "create":
        out: Any = create(
            args.endpoint,
            database=args.database,
            tables=names,
            without_columns=args.without_column,
            copies=args.copy,
        )
    elif args.command == "generate":
        out = generate(args.endpoint, args.rows, database=args.database)
    elif args.command == "append":
        commits = json.loads(args.commits.read_text(encoding="utf-8"))
        out = append(args.endpoint, commits, gap_s=args.gap, database=args.database)
    elif args.command == "evolve":
        out = evolve(args.endpoint, database=args.database)
    elif args.command == "delete":
        out = delete(args.endpoint, region=args.region, database=args.database)
    else:
        out = read(args.endpoint, names, database=args.database)
    json.dump(out, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
