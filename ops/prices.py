"""The price file, ``config/prices.yaml``: per-region unit prices the cost model multiplies.

Validated like the rest of ``config/``: every problem becomes one :class:`ConfigError` whose message
names the file, the field and the reason.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from unilake_config import ConfigError

# The loader's YAML reader (refuses duplicate keys) and its pydantic-error formatter, reused so the
# price file reports problems exactly like the environment files do.
from unilake_config.loader import load_model, read_yaml

PRICES_FILE = "prices.yaml"

Price = Annotated[Decimal, Field(ge=0, allow_inf_nan=False)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ManagedFlinkPrices(_Frozen):
    kpu_hour: Price
    running_storage_gb_month: Price


class GluePrices(_Frozen):
    requests_per_million: Price
    free_requests_per_month: Annotated[int, Field(ge=0)]


class IntelligentTieringPrices(_Frozen):
    frequent_gb_month: Price
    infrequent_gb_month: Price
    archive_instant_gb_month: Price
    archive_access_gb_month: Price
    deep_archive_gb_month: Price
    monitoring_per_1000_objects: Price


class S3Prices(_Frozen):
    get_per_1000: Price
    put_per_1000: Price
    intelligent_tiering: IntelligentTieringPrices


def _field_paths(model: type[BaseModel], prefix: str = "") -> set[str]:
    paths: set[str] = set()
    for name, info in model.model_fields.items():
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            paths |= _field_paths(annotation, f"{prefix}{name}.")
        else:
            paths.add(f"{prefix}{name}")
    return paths


class RegionPrices(_Frozen):
    as_of: Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}$")]
    source: Annotated[str, Field(min_length=1)]
    managed_flink: ManagedFlinkPrices
    glue: GluePrices
    s3: S3Prices
    unverified: tuple[str, ...] = ()
    """Fields (dotted paths such as ``managed_flink.kpu_hour``) nobody could check for this region."""

    @model_validator(mode="after")
    def _known_unverified(self) -> RegionPrices:
        known = _field_paths(ManagedFlinkPrices, "managed_flink.")
        known |= _field_paths(GluePrices, "glue.") | _field_paths(S3Prices, "s3.")
        for path in self.unverified:
            if path not in known:
                raise ValueError(f"unverified: {path!r} is not a price field (e.g. 'managed_flink.kpu_hour')")
        return self


class PriceBook(_Frozen):
    regions: dict[str, RegionPrices]

    def for_region(self, region: str, path: Path) -> RegionPrices:
        try:
            return self.regions[region]
        except KeyError:
            known = ", ".join(sorted(self.regions)) or "none"
            example = "us-east-1" if "us-east-1" in self.regions or not self.regions else min(self.regions)
            raise ConfigError(
                f"{path}: regions: no prices for {region!r} (known: {known}). To add them: copy the {example} "
                f"block under `regions:` as `{region}:`, set `as_of` to today and `source` to the pages you read, "
                "and take each figure for that region from https://aws.amazon.com/managed-service-apache-flink/"
                "pricing/, https://aws.amazon.com/glue/pricing/ and https://aws.amazon.com/s3/pricing/ (list any "
                "figure you could not check under `unverified`)"
            ) from None


def load_prices(config_dir: Path) -> tuple[PriceBook, Path]:
    """Read and validate ``<config_dir>/prices.yaml``; raises :class:`ConfigError` with a user message."""
    path = config_dir / PRICES_FILE
    return load_model(PriceBook, read_yaml(path), path), path
