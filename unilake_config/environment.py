"""The schema of one environment file, ``config/environments/<name>.yaml``.

Plain data: no CDK imports, so the operator CLI and the cost model use the same objects
without synthesizing anything. Every model is frozen and refuses unknown keys.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from decimal import Decimal
from functools import cache
from types import MappingProxyType
from typing import TYPE_CHECKING, Annotated, Literal

import botocore.session
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from .durations import Seconds

if TYPE_CHECKING:
    from aws_cdk import RemovalPolicy

# The key prefix of the Iceberg warehouse in the lake bucket.
WAREHOUSE_PREFIX = "warehouse"

# CloudWatch Logs accepts only these retention periods (days; AWS::Logs::LogGroup RetentionInDays), each with
# the name aws-cdk-lib's ``logs.RetentionDays`` gives it (``cdk_constructs.encrypted_log_group.retention``
# maps a number of days to it; its test checks every pair against the synthesized RetentionInDays).
LOG_RETENTION_DAYS: Mapping[int, str] = MappingProxyType(
    {
        1: "ONE_DAY",
        3: "THREE_DAYS",
        5: "FIVE_DAYS",
        7: "ONE_WEEK",
        14: "TWO_WEEKS",
        30: "ONE_MONTH",
        60: "TWO_MONTHS",
        90: "THREE_MONTHS",
        120: "FOUR_MONTHS",
        150: "FIVE_MONTHS",
        180: "SIX_MONTHS",
        365: "ONE_YEAR",
        400: "THIRTEEN_MONTHS",
        545: "EIGHTEEN_MONTHS",
        731: "TWO_YEARS",
        1096: "THREE_YEARS",
        1827: "FIVE_YEARS",
        2192: "SIX_YEARS",
        2557: "SEVEN_YEARS",
        2922: "EIGHT_YEARS",
        3288: "NINE_YEARS",
        3653: "TEN_YEARS",
    }
)

# The Flink runtimes cfn-lint 1.58's schema accepts for AWS::KinesisAnalyticsV2::Application RuntimeEnvironment
# (tests/unilake_config/test_environment.py checks this list against the pinned cfn-lint schema).
FLINK_RUNTIMES = frozenset(
    {
        "FLINK-1_6",
        "FLINK-1_8",
        "FLINK-1_11",
        "FLINK-1_13",
        "FLINK-1_15",
        "FLINK-1_18",
        "FLINK-1_19",
        "FLINK-1_20",
        "FLINK-2_2",
        "FLINK-2_3",
    }
)


@cache
def managed_flink_regions() -> frozenset[str]:
    """Regions where botocore's endpoint data offers Managed Service for Apache Flink (no network call)."""
    session = botocore.session.get_session()
    return frozenset(session.get_available_regions("kinesisanalyticsv2"))


def _log_retention(days: int) -> int:
    if days <= 0:
        raise ValueError(f"must be a positive number of days, got {days}")
    if days not in LOG_RETENTION_DAYS:
        allowed = ", ".join(str(d) for d in sorted(LOG_RETENTION_DAYS))
        raise ValueError(f"{days} is not a CloudWatch Logs retention period; choose one of {allowed}")
    return days


LogRetentionDays = Annotated[int, AfterValidator(_log_retention)]
PositiveDays = Annotated[int, Field(gt=0)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class IntelligentTiering(_Frozen):
    """S3 Intelligent-Tiering's opt-in archive tiers (AWS: 90-730 and 180-730 days)."""

    archive_access_days: Annotated[int, Field(ge=90, le=730)] = 90
    deep_archive_access_days: Annotated[int, Field(ge=180, le=730)] = 180

    @model_validator(mode="after")
    def _deep_after_archive(self) -> IntelligentTiering:
        if self.deep_archive_access_days <= self.archive_access_days:
            raise ValueError("deep_archive_access_days must be greater than archive_access_days")
        return self


class LakeConfig(_Frozen):
    # Off unless set: an object in an archive tier cannot be read until restored (backfills, compaction and
    # time travel over old partitions would fail with InvalidObjectState).
    intelligent_tiering: IntelligentTiering | None = None
    noncurrent_version_expiration_days: PositiveDays = 30
    abort_incomplete_multipart_upload_days: PositiveDays = 7
    access_log_expiration_days: PositiveDays = 365


class NetworkConfig(_Frozen):
    cidr: str
    s3_prefix_list_id: Annotated[str, Field(pattern=r"^pl-[0-9a-f]{8,17}$")]
    """The region's AWS-managed prefix list ``com.amazonaws.<region>.s3``: the Flink application's security
    group lets HTTPS out to it (traffic to a gateway endpoint is matched by prefix list, not CIDR). Look it up
    once with ``aws ec2 describe-managed-prefix-lists`` (filter prefix-list-name com.amazonaws.<region>.s3);
    synth never calls AWS."""
    max_azs: Annotated[int, Field(ge=1, le=3)] = 2
    flow_log_retention_days: LogRetentionDays = 90

    @field_validator("cidr")
    @classmethod
    def _cidr(cls, value: str) -> str:
        try:
            network = ipaddress.IPv4Network(value, strict=True)
        except ValueError as error:
            raise ValueError(f"{value!r} is not an IPv4 CIDR block such as 10.20.0.0/16 ({error})") from None
        if not 16 <= network.prefixlen <= 24:
            raise ValueError(f"{value!r}: a VPC CIDR needs a prefix between /16 and /24")
        return str(network)


class CatalogConfig(_Frozen):
    database_name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,254}$")]
    shard_count: Annotated[int, Field(ge=1, le=128)] = 32
    """Per-table resources are spread over this many catalog stacks by a hash of the table name.
    Fixed for the life of an environment: changing it moves tables between stacks."""


class FraudThresholds(_Frozen):
    velocity_min_transactions: Annotated[int, Field(ge=2)] = 5
    multi_store_min_stores: Annotated[int, Field(ge=2)] = 3
    high_value_amount: Annotated[Decimal, Field(gt=0)] = Decimal("10000.00")


class FlinkConfig(_Frozen):
    application_name: Annotated[str, Field(pattern=r"^[a-zA-Z0-9_.-]{1,128}$")]
    runtime: str = "FLINK-1_20"
    parallelism: Annotated[int, Field(ge=1)] = 1
    parallelism_per_kpu: Annotated[int, Field(ge=1, le=8)] = 1
    autoscaling: bool = True
    checkpoint_interval: Seconds = 30
    min_pause_between_checkpoints: Seconds = 5
    snapshots: bool = True
    allow_non_restored_state: bool = False
    metrics_level: Literal["APPLICATION", "OPERATOR", "PARALLELISM", "TASK"] = "APPLICATION"
    log_level: Literal["DEBUG", "INFO", "WARN", "ERROR"] = "INFO"
    log_retention_days: LogRetentionDays = 90
    window_size: Seconds = 60
    out_of_orderness: Seconds = 5
    fraud: FraudThresholds = FraudThresholds()

    @field_validator("runtime")
    @classmethod
    def _runtime(cls, value: str) -> str:
        if value not in FLINK_RUNTIMES:
            raise ValueError(f"{value!r} is not a Managed Flink runtime; choose one of {sorted(FLINK_RUNTIMES)}")
        return value

    @model_validator(mode="after")
    def _pause_below_interval(self) -> FlinkConfig:
        if self.min_pause_between_checkpoints >= self.checkpoint_interval:
            raise ValueError("min_pause_between_checkpoints must be shorter than checkpoint_interval")
        return self

    @property
    def kpus(self) -> int:
        """KPUs the service bills for the configured parallelism (before autoscaling), without the
        orchestration KPU: ceil(parallelism / parallelism_per_kpu)."""
        return -(-self.parallelism // self.parallelism_per_kpu)

    @property
    def backfill_application_name(self) -> str:
        """The backfill application beside the streaming one (cdk_constructs/backfill_application.py)."""
        return f"{self.application_name}-backfill"


class MonitoringConfig(_Frozen):
    alarm_emails: tuple[Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")], ...] = ()
    max_checkpoint_size_mb: Annotated[int, Field(gt=0)] = 1024
    max_heap_percent: Annotated[int, Field(gt=0, le=100)] = 90
    max_cpu_percent: Annotated[int, Field(gt=0, le=100)] = 80
    max_quarantined_percent: Annotated[float, Field(gt=0, le=100)] = 5.0
    """Alarm when more than this share of the records the job accounts for (aggregated + quarantined) is
    quarantined, over 5 minutes: a flood of LATE or bad records is data loss in practice."""


class EnvironmentConfig(_Frozen):
    """One deployment target: an account, a region and everything that differs between environments."""

    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{1,19}$")]
    account: str
    region: str
    removal_policy: Literal["retain", "destroy"] = "retain"
    """What happens to stateful resources (key, buckets, log groups) when their stack is deleted.
    'destroy' is a dev convenience and must be asked for explicitly."""
    termination_protection: bool = False
    lake: LakeConfig = LakeConfig()
    network: NetworkConfig
    catalog: CatalogConfig
    """``catalog.database_name`` defaults to ``unilake_<name>`` (dashes become underscores)."""
    flink: FlinkConfig
    """``flink.application_name`` defaults to ``unilake-<name>``."""
    monitoring: MonitoringConfig = MonitoringConfig()

    @model_validator(mode="before")
    @classmethod
    def _derive_names(cls, data: object) -> object:
        """Names that must differ between environments sharing an account and region default to ones
        derived from the environment's name, so a copied file does not inherit its original's names."""
        if not isinstance(data, dict) or not isinstance(data.get("name"), str):
            return data
        name = data["name"]
        derived = dict(data)
        for section, field, value in (
            ("flink", "application_name", f"unilake-{name}"),
            ("catalog", "database_name", f"unilake_{name.replace('-', '_')}"),
        ):
            settings = derived.get(section) or {}
            if isinstance(settings, dict) and field not in settings:
                derived[section] = {**settings, field: value}
        return derived

    @field_validator("account", mode="before")
    @classmethod
    def _account(cls, value: object) -> object:
        if not isinstance(value, str) or not re.fullmatch(r"\d{12}", value):
            raise ValueError(f"{value!r} is not a 12-digit AWS account id (quote it in YAML to keep leading zeros)")
        return value

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        if value not in managed_flink_regions():
            raise ValueError(f"{value!r} is not an AWS region that offers Managed Service for Apache Flink")
        return value

    @property
    def cdk_removal_policy(self) -> RemovalPolicy:
        """CDK's removal policy for the stateful resources (keys, buckets, log groups, tables, topic): kept on
        update and delete unless the file says ``removal_policy: destroy`` explicitly. aws-cdk-lib is imported
        only when a stack asks, so the operator CLI and the cost model load the config without it.

        RETAIN_ON_UPDATE_OR_DELETE (DeletionPolicy RetainExceptOnCreate), not RETAIN: a resource whose stack
        fails its first create is removed with the rollback, so the retry does not fail on a fixed-name bucket,
        key alias or log group that RETAIN would have left behind ("already exists")."""
        from aws_cdk import RemovalPolicy

        if self.removal_policy == "destroy":
            return RemovalPolicy.DESTROY
        return RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE

    @property
    def lake_bucket_name(self) -> str:
        """The lake bucket's name: fixed, so the catalog, the job and the operator CLI agree on it."""
        return f"unilake-{self.name}-lake-{self.account}-{self.region}"

    @property
    def access_log_bucket_name(self) -> str:
        return f"unilake-{self.name}-access-logs-{self.account}-{self.region}"

    # The warehouse layout, defined here only: every table lives under
    # ``s3://<lake bucket>/warehouse/<database>.db/<table>`` (Iceberg's Glue catalog default layout).

    @property
    def warehouse_uri(self) -> str:
        """The Iceberg warehouse (the job's ``warehouse`` setting)."""
        return f"s3://{self.lake_bucket_name}/{WAREHOUSE_PREFIX}"

    @property
    def database_prefix(self) -> str:
        """The key prefix of the database's tables in the lake bucket: ``warehouse/<database>.db``."""
        return f"{WAREHOUSE_PREFIX}/{self.catalog.database_name}.db"

    @property
    def database_location(self) -> str:
        """The Glue database's ``LocationUri``."""
        return f"s3://{self.lake_bucket_name}/{self.database_prefix}"

    def table_prefix(self, table_name: str) -> str:
        """The key prefix of one table's data and metadata files in the lake bucket."""
        return f"{self.database_prefix}/{table_name}"

    def table_location(self, table_name: str) -> str:
        """The Iceberg table's location."""
        return f"s3://{self.lake_bucket_name}/{self.table_prefix(table_name)}"
