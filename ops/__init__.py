"""unilake operations: the cost model (``python -m ops cost``) and the operator CLI for a deployed
environment (status, start, stop, snapshots, tables, smoke). See ``ops/README.md``."""
