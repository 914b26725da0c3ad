"""Realistic retail transactions as JSON lines, for the demo and the benchmark (never shipped to Managed Flink).

Deterministic for a seed. Event times move forward with small jitter (well inside the 5 s out-of-orderness),
values arrive as numbers or strings as real producers send them, and a few patterns are mixed in: card
bursts (VELOCITY), cards hopping stores (MULTI_STORE), big baskets (HIGH_VALUE), exact replays and invalid
records of every quarantine reason.
"""

from __future__ import annotations

import json
import os
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path

FIELDS = ("transaction_id", "store_id", "region", "sku", "card_id", "quantity", "unit_price", "event_time")
_ISO_UTC = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]{1,9})?Z")

REGIONS = ("eu-west", "eu-central", "us-east", "us-west", "ap-south")
START = datetime(2026, 11, 25, 10, 0, 0, tzinfo=UTC)


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass(frozen=True, kw_only=True)
class Generator:
    """``per_second`` transactions per second of event time; ``anomalies`` = share of special records."""

    seed: int = 7
    stores: int = 40
    cards: int = 20_000
    per_second: int = 50
    anomalies: float = 0.02

    def lines(self, count: int, *, start: datetime = START, first_id: int = 0) -> Iterator[str]:
        rng = random.Random(self.seed + first_id)
        step = timedelta(seconds=1 / self.per_second)
        for i in range(count):
            moment = start + step * i + timedelta(milliseconds=rng.randint(0, 900))
            tid = f"tx-{first_id + i:09d}"
            store = rng.randrange(self.stores)
            record: dict[str, object] = {
                "transaction_id": tid,
                "store_id": f"store-{store:03d}",
                "region": REGIONS[store % len(REGIONS)],
                "sku": f"sku-{rng.randrange(5000):05d}",
                "card_id": f"card-{rng.randrange(self.cards):06d}",
                "quantity": rng.choice((1, 1, 1, 2, 2, 3, "1", "2", 4, 5)),
                "unit_price": rng.choice((f"{rng.uniform(0.5, 80):.2f}", round(rng.uniform(0.5, 80), 2))),
                "event_time": iso(moment),
            }
            if rng.random() < self.anomalies:
                yield from self._anomaly(rng, record, moment)
            else:
                yield json.dumps(record)

    @staticmethod
    def _anomaly(rng: random.Random, record: dict[str, object], moment: datetime) -> Iterator[str]:
        kind = rng.randrange(9)
        if kind == 0:  # exact replay (counted once)
            yield json.dumps(record)
            yield json.dumps(record)
        elif kind == 1:  # burst on one card: VELOCITY
            for n in range(5):
                yield json.dumps({**record, "transaction_id": f"{record['transaction_id']}-v{n}"})
        elif kind == 2:  # one card at three stores: MULTI_STORE
            for n in range(3):
                store = f"store-{(int(str(record['store_id'])[6:]) + n) % 40:03d}"
                yield json.dumps({**record, "transaction_id": f"{record['transaction_id']}-m{n}", "store_id": store})
        elif kind == 3:  # HIGH_VALUE
            yield json.dumps({**record, "quantity": 4, "unit_price": "2999.99"})
        elif kind == 4:
            yield '{"transaction_id": "broken'  # MALFORMED
        elif kind == 5:
            yield json.dumps({k: v for k, v in record.items() if k != "sku"})  # MISSING_FIELD
        elif kind == 6:
            yield json.dumps({**record, "event_time": moment.strftime("%d/%m/%Y %H:%M:%S")})  # BAD_EVENT_TIME
        elif kind == 7:
            yield json.dumps({**record, "quantity": rng.choice((0, -2, "1.5", "two"))})  # BAD_QUANTITY
        else:
            yield json.dumps({**record, "unit_price": rng.choice(("-3.00", "9.999", "free"))})  # BAD_PRICE


def land(folder: Path, name: str, lines: Iterator[str] | list[str]) -> int:
    """Write a file atomically (hidden temporary name, then rename); return its number of lines."""
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{name}.tmp"
    count = 0
    with tmp.open("w", encoding="utf-8") as out:
        for line in lines:
            out.write(line + "\n")
            count += 1
    os.replace(tmp, folder / name)
    return count


def typed_line(line: str) -> str | None:
    """The row an Iceberg ``transactions`` table would hold for a JSON line (typed quantity and price, event
    time without the ``Z``, as JSON the filesystem connector reads into typed columns), or None when its
    typed columns could not hold the record (malformed, missing field, bad type or event time). Negative
    quantities or prices stay: an int or decimal column holds them, and the pipeline quarantines them."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError:
        return None
    if not isinstance(record, dict) or any(record.get(f) is None for f in FIELDS):
        return None
    try:
        quantity = int(str(record["quantity"]))
        price = Decimal(str(record["unit_price"]))
    except (ValueError, InvalidOperation):
        return None
    time_text = str(record["event_time"])
    exponent = price.as_tuple().exponent
    if not _ISO_UTC.fullmatch(time_text) or not isinstance(exponent, int) or exponent < -2:
        return None
    try:
        datetime.fromisoformat(time_text)
    except ValueError:
        return None
    record.update(quantity=quantity, unit_price=str(price), event_time=time_text[:-1])
    return json.dumps(record)
