"""Fixtures for the ops tests: the real config, a local moto server, Iceberg tables in it.

Everything runs on 127.0.0.1 with dummy credentials; nothing here touches AWS.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import logging
import os
import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pyarrow as pa
import pytest
from botocore.stub import Stubber
from moto.server import ThreadedMotoServer
from pyiceberg.catalog import Catalog
from pyiceberg.exceptions import NamespaceAlreadyExistsError, TableAlreadyExistsError
from pyiceberg.partitioning import PartitionField as IcebergPartitionField
from pyiceberg.partitioning import PartitionSpec
from pyiceberg.schema import Schema
from pyiceberg.transforms import DayTransform, IdentityTransform
from pyiceberg.types import (
    DecimalType,
    IntegerType,
    LongType,
    NestedField,
    PrimitiveType,
    StringType,
    TimestampType,
)

from ops.aws import AwsFactory
from unilake_config import Environment, TableSpec, load_environments

ROOT = Path(__file__).resolve().parents[2]
CONFIG_DIR = ROOT / "config"
DUMMY_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_EC2_METADATA_DISABLED": "true",
}


@pytest.fixture(autouse=True)
def _run_from_the_repository_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI reads ./config by default, as a user runs it from the repository root."""
    monkeypatch.chdir(ROOT)


@pytest.fixture(scope="session")
def prod() -> Environment:
    (env,) = load_environments(CONFIG_DIR, only=("prod",))
    return env


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    """A real moto server on loopback, port chosen by the OS."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def dummy_session(region: str) -> boto3.session.Session:
    """Explicit dummy credentials: the tests never read (or change) the environment's AWS settings."""
    return boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=region)


# --- Iceberg tables in moto: in production CloudFormation creates them ----------------------------------

_TYPES: dict[str, PrimitiveType] = {
    "string": StringType(),
    "int": IntegerType(),
    "long": LongType(),
    "timestamp": TimestampType(),
    "decimal(10,2)": DecimalType(10, 2),
    "decimal(18,2)": DecimalType(18, 2),
}


def iceberg_schema(spec: TableSpec) -> Schema:
    fields = [
        NestedField(index, column.name, _TYPES[column.type], required=column.required, doc=column.doc)
        for index, column in enumerate(spec.columns, start=1)
    ]
    identifiers = [index for index, column in enumerate(spec.columns, start=1) if column.name in spec.identifier_fields]
    return Schema(*fields, identifier_field_ids=identifiers)


def partition_spec(spec: TableSpec, schema: Schema) -> PartitionSpec:
    transforms = {"day": DayTransform(), "identity": IdentityTransform()}
    return PartitionSpec(
        *(
            IcebergPartitionField(
                source_id=schema.find_field(field.source).field_id,
                field_id=1000 + index,
                transform=transforms[field.transform],
                name=field.name,
            )
            for index, field in enumerate(spec.partition_spec)
            if field.transform in transforms
        )
    )


@dataclasses.dataclass
class Lake:
    """One environment whose Glue database and Iceberg tables exist in moto."""

    env: Environment
    aws: AwsFactory
    _cached: Catalog | None = dataclasses.field(default=None, init=False, repr=False)

    def catalog(self) -> Catalog:
        """The test thread's catalog (built once: creating boto3 clients is slow on a loaded machine)."""
        if self._cached is None:
            self._cached = self.fresh_catalog()
        return self._cached

    def fresh_catalog(self) -> Catalog:
        """A catalog with its own boto3 session and clients, for another thread."""
        factory = AwsFactory(
            region=self.aws.region,
            endpoint_url=self.aws.endpoint_url,
            session_override=dummy_session(self.aws.region),
        )
        return factory.catalog(self.env.config)

    @property
    def database(self) -> str:
        return self.env.config.catalog.database_name


def create_lake(env: Environment, url: str, table_names: tuple[str, ...]) -> Lake:
    aws = AwsFactory(region=env.config.region, endpoint_url=url, session_override=dummy_session(env.config.region))
    s3 = aws.client("s3")
    existing = {bucket["Name"] for bucket in s3.list_buckets().get("Buckets", [])}
    if env.config.lake_bucket_name not in existing:
        s3.create_bucket(Bucket=env.config.lake_bucket_name)
    catalog = aws.catalog(env.config)
    database = env.config.catalog.database_name
    with contextlib.suppress(NamespaceAlreadyExistsError):
        catalog.create_namespace(database)
    for name in table_names:
        spec = env.table(name)
        schema = iceberg_schema(spec)
        with contextlib.suppress(TableAlreadyExistsError):
            catalog.create_table(
                (database, name),
                schema=schema,
                location=env.config.table_location(name),
                partition_spec=partition_spec(spec, schema),
                properties={"format-version": "2"},
            )
    return Lake(env=env, aws=aws)


def transactions_batch(lake: Lake, rows: list[dict[str, Any]]) -> pa.Table:
    table = lake.catalog().load_table((lake.database, "transactions"))
    return pa.Table.from_pylist(rows, schema=table.schema().as_arrow())


def sample_transactions(prefix: str, count: int, start: datetime) -> list[dict[str, Any]]:
    return [
        {
            "transaction_id": f"{prefix}-{index}",
            "store_id": "s1",
            "region": "eu",
            "sku": "sku",
            "card_id": f"card-{index}",
            "quantity": 1,
            "unit_price": Decimal("2.50"),
            "event_time": start + timedelta(seconds=index),
        }
        for index in range(count)
    ]


# --- The Flink job, played by the test --------------------------------------------------------------------


class FlinkPlayer:
    """Plays the streaming job for smoke tests: reads new smoke rows from ``transactions`` and appends their
    per-window aggregates to ``sales_per_minute``. An independent re-implementation of the job's window
    arithmetic, so the smoke check is tested against something other than itself."""

    def __init__(self, lake: Lake, *, revenue_error: Decimal = Decimal(0)) -> None:
        self._lake = lake
        self._window = lake.env.config.flink.window_size
        self._revenue_error = revenue_error
        self._done: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="flink-player", daemon=True)
        self.errors: list[BaseException] = []

    def __enter__(self) -> FlinkPlayer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        catalog = self._lake.fresh_catalog()
        try:
            while not self._stop.wait(0.2):
                self._step(catalog)
        except BaseException as error:  # surfaced by the test
            self.errors.append(error)

    def _step(self, catalog: Catalog) -> None:
        source = catalog.load_table((self._lake.database, "transactions"))
        rows = [row for row in source.scan().to_arrow().to_pylist() if row["region"].startswith("smoke-")]
        new = [row for row in rows if row["region"] not in self._done]
        if not new:
            return
        groups: dict[tuple[str, str, datetime], list[dict[str, Any]]] = {}
        for row in new:
            event: datetime = row["event_time"]
            midnight = event.replace(hour=0, minute=0, second=0, microsecond=0)
            offset = int((event - midnight).total_seconds()) // self._window * self._window
            start = midnight + timedelta(seconds=offset)
            groups.setdefault((row["region"], row["store_id"], start), []).append(row)
        aggregates = [
            {
                "region": region,
                "store_id": store,
                "window_start": start,
                "window_end": start + timedelta(seconds=self._window),
                "transactions": len({row["transaction_id"] for row in group}),
                "units": sum(row["quantity"] for row in group),
                "revenue": sum((row["quantity"] * row["unit_price"] for row in group), Decimal(0))
                + self._revenue_error,
            }
            for (region, store, start), group in groups.items()
        ]
        sink = catalog.load_table((self._lake.database, "sales_per_minute"))
        sink.append(pa.Table.from_pylist(aggregates, schema=sink.schema().as_arrow()))
        self._done |= {row["region"] for row in new}


_databases = itertools.count()


@pytest.fixture
def lake(prod: Environment, moto_url: str) -> Lake:
    """prod's tables in a Glue database of their own (isolated per test)."""
    database = f"{prod.config.catalog.database_name}_t{next(_databases)}"
    config = prod.config.model_copy(
        update={"catalog": prod.config.catalog.model_copy(update={"database_name": database})}
    )
    # Only the two tables the smoke check uses: creating tables in moto is the slow part of these tests.
    tables = tuple(table for table in prod.tables if table.name in ("transactions", "sales_per_minute"))
    env = dataclasses.replace(prod, config=config, tables=tables)
    return create_lake(env, moto_url, tuple(table.name for table in tables))


@pytest.fixture
def dummy_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """For tests of the CLI's own credential chain (``--endpoint-url``): dummy keys in the environment."""
    for key in list(os.environ):
        if key.startswith("AWS_"):
            monkeypatch.delenv(key)
    for key, value in DUMMY_CREDENTIALS.items():
        monkeypatch.setenv(key, value)


@pytest.fixture
def no_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No credential anywhere boto3 looks (and no instance metadata lookup)."""
    for key in list(os.environ):
        if key.startswith("AWS_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "missing-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "missing-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture(scope="session")
def prod_lake(prod: Environment, moto_url: str) -> Lake:
    """prod itself (names exactly as config/ gives them) with all its tables, for the CLI tests."""
    return create_lake(prod, moto_url, tuple(table.name for table in prod.tables))


@pytest.fixture
def flink_player() -> type[FlinkPlayer]:
    """The stand-in for the streaming job (a context manager running in a background thread)."""
    return FlinkPlayer


@pytest.fixture
def append_transactions() -> Callable[[Lake, str, int], int]:
    """Append ``count`` plain transactions to the lake's source table; returns the new snapshot id."""

    def append(lake: Lake, prefix: str, count: int) -> int:
        table = lake.catalog().load_table((lake.database, "transactions"))
        rows = sample_transactions(prefix, count, datetime(2026, 11, 25, 10, 0))
        table.append(pa.Table.from_pylist(rows, schema=table.schema().as_arrow()))
        snapshot = table.current_snapshot()
        assert snapshot is not None
        return snapshot.snapshot_id

    return append


@pytest.fixture
def kda() -> Iterator[tuple[Any, Stubber]]:
    """A Managed Flink client with ``botocore.stub.Stubber`` (moto serves Managed Flink only for create,
    describe and list); every stubbed response must be used."""
    client = boto3.client(
        "kinesisanalyticsv2", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    with Stubber(client) as stub:
        yield client, stub
        stub.assert_no_pending_responses()
