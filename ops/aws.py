"""Where the operator CLI gets its AWS clients and its Iceberg catalog: one injectable place.

boto3 ships no type stubs here, so clients are ``Any`` behind this small typed wrapper. Tests
replace :class:`AwsFactory` (or pass ``endpoint_url``) to point everything at a local moto server
or a ``botocore.stub.Stubber``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.exceptions import NoCredentialsError
from pyiceberg.catalog import Catalog, load_catalog

from unilake_config import EnvironmentConfig

CATALOG_NAME = "unilake"


@dataclass
class AwsFactory:
    """Clients and the Glue-backed Iceberg catalog for one environment's region.

    ``endpoint_url`` (hidden CLI option ``--endpoint-url``) sends every call to one endpoint, such as a
    local moto server. ``profile`` picks a named AWS profile; otherwise boto3's default chain applies.
    ``session_override`` injects a ready ``boto3.session.Session`` (tests: explicit dummy credentials).
    """

    region: str
    endpoint_url: str | None = None
    profile: str | None = None
    session_override: Any = field(default=None, repr=False)
    _session: Any = field(default=None, init=False, repr=False)
    _clients: dict[str, Any] = field(default_factory=dict, init=False, repr=False)

    @property
    def session(self) -> Any:
        if self._session is None:
            self._session = self.session_override or boto3.session.Session(
                profile_name=self.profile, region_name=self.region
            )
        return self._session

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self.session.client(
                service, region_name=self.region, endpoint_url=self.endpoint_url
            )
        return self._clients[service]

    def catalog(self, config: EnvironmentConfig) -> Catalog:
        """The environment's Glue Data Catalog as pyiceberg sees it (credentials from the boto3 session)."""
        properties: dict[str, str] = {
            "type": "glue",
            "warehouse": config.warehouse_uri,
            "glue.region": self.region,
            "s3.region": self.region,
        }
        credentials = self.session.get_credentials()
        if credentials is None:
            raise NoCredentialsError()
        # Resolved once here so pyiceberg's Glue client and its S3 FileIO use the same identity.
        frozen = credentials.get_frozen_credentials()
        for prefix in ("glue", "s3"):
            properties[f"{prefix}.access-key-id"] = frozen.access_key
            properties[f"{prefix}.secret-access-key"] = frozen.secret_key
            if frozen.token:
                properties[f"{prefix}.session-token"] = frozen.token
        if self.endpoint_url:
            properties["glue.endpoint"] = self.endpoint_url
            properties["s3.endpoint"] = self.endpoint_url
        return load_catalog(CATALOG_NAME, **properties)
