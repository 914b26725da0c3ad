"""Starts a Managed Service for Apache Flink application after every deployment (custom resource)."""

from .construct import ApplicationStarter

__all__ = ["ApplicationStarter"]
