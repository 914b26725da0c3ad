"""The registry decides the tables: the job's own view of them (``flink_app/unilake_job/schemas.py``, pure
Python with no access to the config) must agree with ``config/tables.yaml`` in every environment: names and
roles, columns in order, types (Iceberg's Flink type mapping) and required columns."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from flink_app.unilake_job import properties as job
from flink_app.unilake_job import schemas, sql
from unilake_config import Environment, TableSpec, load_environments

ROOT = Path(__file__).resolve().parents[2]

# Iceberg type -> the Flink SQL type the Iceberg Flink connector maps it to (Iceberg docs, "Flink type to
# Iceberg type conversion"; the connector reads timestamps with microsecond precision).
_FLINK_TYPES = {
    "boolean": "BOOLEAN",
    "int": "INT",
    "long": "BIGINT",
    "float": "FLOAT",
    "double": "DOUBLE",
    "date": "DATE",
    "string": "STRING",
    "timestamp": "TIMESTAMP(6)",
    "timestamptz": "TIMESTAMP_LTZ(6)",
}


def flink_type(iceberg_type: str) -> str:
    if match := re.fullmatch(r"decimal\((\d+),(\d+)\)", iceberg_type):
        return f"DECIMAL({match.group(1)}, {match.group(2)})"
    return _FLINK_TYPES[iceberg_type]


@pytest.fixture(scope="module")
def environments() -> list[Environment]:
    return load_environments(ROOT / "config")


def registry_table(environment: Environment, name: str) -> TableSpec:
    return environment.table(name)


def test_the_job_reads_the_registry_s_source_and_writes_its_sinks(environments: list[Environment]) -> None:
    sinks = (job.DEFAULT_SALES_TABLE, job.DEFAULT_FRAUD_TABLE, job.DEFAULT_QUARANTINE_TABLE)
    assert sinks == sql.OUTPUT_TABLES
    assert set(schemas.TABLES) == {job.DEFAULT_SOURCE_TABLE, *sinks} == set(schemas.REQUIRED)
    for environment in environments:
        assert registry_table(environment, job.DEFAULT_SOURCE_TABLE).role == "source"
        for name in sinks:
            assert registry_table(environment, name).role == "sink", (environment.name, name)


@pytest.mark.parametrize("name", list(schemas.TABLES))
def test_columns_types_and_required_match_the_registry(environments: list[Environment], name: str) -> None:
    for environment in environments:
        table = registry_table(environment, name)
        assert schemas.TABLES[name] == tuple((column.name, flink_type(column.type)) for column in table.columns)
        assert schemas.REQUIRED[name] == {column.name for column in table.columns if column.required}
