"""A local AWS for the msf profile's end-to-end tests: a moto server (Glue, S3, STS) on 127.0.0.1 and the
lake's Iceberg tables in it, created from ``config/tables.yaml`` exactly as the catalog stack declares them.

Two virtualenvs, one harness (PyFlink 1.20 and pyiceberg cannot share pyarrow):

- ``moto.py`` (standard library only, any venv): starts ``.venv/bin/moto_server`` on a free loopback port and
  stops it; :data:`moto.DUMMY_AWS_ENV` are the credentials and region the AWS SDKs read from the environment.
- ``lake.py`` (``.venv`` only: pyiceberg, boto3): creates the database and tables, appends transactions as
  Iceberg commits (one data file per region partition per commit, commits spaced in time), reads tables and
  snapshots back. Also a command line, ``.venv/bin/python -m tests.local_aws.lake ...``, JSON in and out.
- ``client.py`` (standard library only): :class:`client.Lake` runs that command line from any venv, so the
  PyFlink tests (``.venv-flink``) drive pyiceberg (``.venv``) through a subprocess.

The PyFlink fixtures are in ``tests/flink_app/conftest.py`` (``local_aws``, ``msf_lake``).
"""
