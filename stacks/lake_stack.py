"""The stateful lake stack: the key and buckets every other stack reads from or writes to."""

from __future__ import annotations

from aws_cdk import Duration, Stack
from constructs import Construct

from cdk_constructs.lake_storage import LakeStorage
from unilake_config import EnvironmentConfig


class LakeStack(Stack):
    storage: LakeStorage

    def __init__(self, scope: Construct, construct_id: str, *, config: EnvironmentConfig) -> None:
        super().__init__(
            scope,
            construct_id,
            description=f"unilake {config.name}: lake key, lake bucket and access-log bucket (stateful)",
            termination_protection=config.termination_protection,
        )
        lake = config.lake
        tiering = lake.intelligent_tiering  # the archive tiers are opt-in: None leaves them off
        self.storage = LakeStorage(
            self,
            "Lake",
            bucket_name=config.lake_bucket_name,
            access_log_bucket_name=config.access_log_bucket_name,
            archive_access_after=Duration.days(tiering.archive_access_days) if tiering else None,
            deep_archive_access_after=Duration.days(tiering.deep_archive_access_days) if tiering else None,
            noncurrent_version_expiration=Duration.days(lake.noncurrent_version_expiration_days),
            abort_incomplete_multipart_upload_after=Duration.days(lake.abort_incomplete_multipart_upload_days),
            access_log_expiration=Duration.days(lake.access_log_expiration_days),
            removal_policy=config.cdk_removal_policy,
            # A stack deletes a bucket only once it is empty: with destroy, empty it first.
            auto_delete_objects=config.removal_policy == "destroy",
        )
