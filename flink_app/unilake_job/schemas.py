"""Column lists of the Iceberg tables the job reads and writes, as Flink SQL types. Pure Python.

These are the tables the catalog stacks create in Glue (Iceberg ``timestamp`` = Flink ``TIMESTAMP(6)``,
``long`` = ``BIGINT``). The job never creates a table: the msf profile declares these columns only to read
``transactions`` through a temporary table and checks the catalog tables exist before it starts.
"""

from __future__ import annotations

from typing import Final

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

#: Quarantine reasons, in the order they are tested.
REASONS: Final = ("MALFORMED", "MISSING_FIELD", "BAD_EVENT_TIME", "BAD_QUANTITY", "BAD_PRICE", "LATE")

#: Fraud rules.
RULES: Final = ("VELOCITY", "MULTI_STORE", "HIGH_VALUE")


def column_definitions(columns: Columns) -> tuple[str, ...]:
    """``name TYPE`` pairs for a CREATE TABLE statement."""
    return tuple(f"`{name}` {sql_type}" for name, sql_type in columns)
