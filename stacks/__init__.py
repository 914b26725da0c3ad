"""Thin stacks: each composes constructs from ``cdk_constructs`` and wires them with ``grant_*``."""
