"""The benchmark harness behind ``pantau bench``: classifier, end to end, memory, profiles.

Register with ``main.add_command(bench)`` in ``streams/cli.py``.
"""

from streams.bench.command import bench

__all__ = ["bench"]
