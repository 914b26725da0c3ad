"""The monitoring stack: per environment, the alarm topic and, for the application, a dashboard and alarms."""

from __future__ import annotations

from aws_cdk import Stack
from constructs import Construct

from cdk_constructs.flink_monitoring import FlinkMonitoring, SourceBounds, Thresholds
from unilake_config import EnvironmentConfig, TableSpec
from unilake_config.flink_metrics import freshness_bound_seconds, quiet_close_bound_seconds


class MonitoringStack(Stack):
    monitoring: FlinkMonitoring

    def __init__(
        self, scope: Construct, construct_id: str, *, config: EnvironmentConfig, tables: tuple[TableSpec, ...]
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            description=f"unilake {config.name}: alarm topic, dashboard and alarms of the Managed Flink application",
        )
        flink = config.flink
        self.monitoring = FlinkMonitoring(
            self,
            "Monitoring",
            application_name=flink.application_name,
            thresholds=Thresholds(
                checkpoint_interval_seconds=flink.checkpoint_interval,
                max_checkpoint_size_bytes=config.monitoring.max_checkpoint_size_mb * 1024 * 1024,
                max_heap_percent=config.monitoring.max_heap_percent,
                max_cpu_percent=config.monitoring.max_cpu_percent,
                max_quarantined_percent=config.monitoring.max_quarantined_percent,
            ),
            source_bounds={
                table.name: SourceBounds(
                    freshness_seconds=freshness_bound_seconds(
                        table.streaming.monitor_interval, flink.checkpoint_interval
                    ),
                    quiet_close_seconds=quiet_close_bound_seconds(
                        idle_timeout_seconds=table.streaming.idle_timeout,
                        window_seconds=flink.window_size,
                        monitor_interval_seconds=table.streaming.monitor_interval,
                        checkpoint_interval_seconds=flink.checkpoint_interval,
                    ),
                )
                for table in tables
                if table.streaming is not None
            },
            alarm_emails=config.monitoring.alarm_emails,
            removal_policy=config.cdk_removal_policy,
        )
