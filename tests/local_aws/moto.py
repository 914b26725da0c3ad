"""A moto server (Glue, S3, STS, ...) on 127.0.0.1, as a child process. Standard library only.

``.venv/bin/moto_server`` is used whatever venv runs the tests (moto lives in the main venv only), so the
PyFlink suite in ``.venv-flink`` gets the same server. The JVM's AWS SDK and pyiceberg find the dummy
credentials and the region in :data:`DUMMY_AWS_ENV`.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

REPO_ROOT: Final = Path(__file__).resolve().parents[2]
MAIN_VENV_BIN: Final = REPO_ROOT / ".venv" / "bin"
REGION: Final = "eu-west-1"
#: What the AWS SDKs (Java v2 in Flink's JVM, boto3/pyiceberg) read from the environment: dummy keys only,
#: the region, and no instance metadata lookup.
DUMMY_AWS_ENV: Final = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_REGION": REGION,
    "AWS_DEFAULT_REGION": REGION,
    "AWS_EC2_METADATA_DISABLED": "true",
}


class MotoError(RuntimeError):
    """The moto server could not be started."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class MotoServer:
    """``with MotoServer() as server: server.url`` -- stopped (and its process reaped) on exit."""

    port: int = field(default_factory=free_port)
    log_path: Path | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, timeout_s: float = 60.0) -> MotoServer:
        executable = MAIN_VENV_BIN / "moto_server"
        if not executable.is_file():
            raise MotoError(f"{executable} not found: run `make setup` (moto[server] is in requirements-dev.txt)")
        log = self.log_path.open("wb") if self.log_path else subprocess.DEVNULL
        self.process = subprocess.Popen(
            [str(executable), "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **DUMMY_AWS_ENV},
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise MotoError(f"moto_server exited with status {self.process.returncode} (port {self.port})")
            try:
                with urllib.request.urlopen(f"{self.url}/moto-api/", timeout=2):  # noqa: S310 (http on loopback)
                    return self
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise MotoError(f"moto_server not answering on {self.url} after {timeout_s:g}s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def __enter__(self) -> MotoServer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()
