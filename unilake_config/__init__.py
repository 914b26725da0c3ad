"""The typed, frozen configuration of unilake: environments and the Iceberg table registry.

Plain data with no CDK imports: ``app.py``, the operator CLI and the cost model all read it.
"""

from .environment import EnvironmentConfig, FlinkConfig, LakeConfig, MonitoringConfig, NetworkConfig
from .loader import ConfigError, Environment, load_environments
from .tables import Column, PartitionField, TableSpec

__all__ = [
    "Column",
    "ConfigError",
    "Environment",
    "EnvironmentConfig",
    "FlinkConfig",
    "LakeConfig",
    "MonitoringConfig",
    "NetworkConfig",
    "PartitionField",
    "TableSpec",
    "load_environments",
]
