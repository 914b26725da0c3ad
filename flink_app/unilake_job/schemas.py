"""Column lists of the Iceberg tables the job reads and writes, as Flink SQL types. Pure Python.

These are the tables the catalog stacks create in Glue from ``config/tables.yaml``, the registry, which
decides (Iceberg ``timestamp`` = Flink ``TIMESTAMP(6)``, ``long`` = ``BIGINT``);
``tests/unilake_config/test_job_tables.py`` checks :data:`TABLES` and :data:`REQUIRED` against it: names,
columns in order, types and required columns. The job never creates a table: the msf profile declares these
columns only to read ``transactions`` through a temporary table and checks the catalog tables exist before
it starts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from .properties import DEFAULT_FRAUD_TABLE, DEFAULT_QUARANTINE_TABLE, DEFAULT_SALES_TABLE, DEFAULT_SOURCE_TABLE

Columns = tuple[tuple[str, str], ...]

TRANSACTIONS: Final[Columns] = (
    ("transaction_id", "STRING"),
    ("store_id", "STRING"),
    ("region", "STRING"),
    ("sku", "STRING"),
    ("card_id", "STRING"),
    ("quantity", "INT"),
    ("unit_price", "DECIMAL(10, 2)"),
    ("event_time", "TIMESTAMP(6)"),
)

#: The fields of a transaction as received: the order of quarantine's "as received" columns.
RECEIVED_FIELDS: Final = tuple(name for name, _ in TRANSACTIONS)

SALES_PER_MINUTE: Final[Columns] = (
    ("region", "STRING"),
    ("store_id", "STRING"),
    ("window_start", "TIMESTAMP(6)"),
    ("window_end", "TIMESTAMP(6)"),
    ("transactions", "BIGINT"),
    ("units", "BIGINT"),
    ("revenue", "DECIMAL(18, 2)"),
)

FRAUD_ALERTS: Final[Columns] = (
    ("rule", "STRING"),
    ("card_id", "STRING"),
    ("window_start", "TIMESTAMP(6)"),
    ("window_end", "TIMESTAMP(6)"),
    ("transactions", "BIGINT"),
    ("distinct_stores", "BIGINT"),
    ("amount", "DECIMAL(18, 2)"),
    ("transaction_id", "STRING"),
)

QUARANTINE: Final[Columns] = (
    ("reason", "STRING"),
    *((name, "STRING") for name in RECEIVED_FIELDS),
    ("raw_line", "STRING"),
    ("ingest_time", "TIMESTAMP(6)"),
)

#: The job's tables by their catalog names (the defaults of the table keys in ``properties``).
TABLES: Final[Mapping[str, Columns]] = {
    DEFAULT_SOURCE_TABLE: TRANSACTIONS,
    DEFAULT_SALES_TABLE: SALES_PER_MINUTE,
    DEFAULT_FRAUD_TABLE: FRAUD_ALERTS,
    DEFAULT_QUARANTINE_TABLE: QUARANTINE,
}

#: The columns the job relies on being set (the source's) or never leaves NULL (the sinks'): the registry
#: declares exactly these ``required``.
REQUIRED: Final[Mapping[str, frozenset[str]]] = {
    DEFAULT_SOURCE_TABLE: frozenset({"transaction_id"}),
    DEFAULT_SALES_TABLE: frozenset({"region", "store_id", "window_start", "window_end"}),
    DEFAULT_FRAUD_TABLE: frozenset({"rule", "card_id", "window_start", "window_end"}),
    DEFAULT_QUARANTINE_TABLE: frozenset({"reason", "ingest_time"}),
}

#: Quarantine reasons, in the order they are tested.
REASONS: Final = ("MALFORMED", "MISSING_FIELD", "BAD_EVENT_TIME", "BAD_QUANTITY", "BAD_PRICE", "LATE")

#: Fraud rules.
RULES: Final = ("VELOCITY", "MULTI_STORE", "HIGH_VALUE")


def column_definitions(columns: Columns) -> tuple[str, ...]:
    """``name TYPE`` pairs for a CREATE TABLE statement."""
    return tuple(f"`{name}` {sql_type}" for name, sql_type in columns)
