"""The unified unilake job: one PyFlink pipeline for streaming and batch.

Import-light on purpose: ``properties``, ``schemas``, ``sql`` and ``report`` are pure Python (the infrastructure
imports ``properties``); only ``job`` imports pyflink. Modules use relative imports, so the package works both as
the top-level ``unilake_job`` inside the Managed Flink zip and as ``flink_app.unilake_job`` from the repository.
"""
