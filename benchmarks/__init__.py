"""The benchmark harness behind ``pantau bench``: classifier, end to end, memory, profiles.

Not part of the package: ``streams/cli/bench.py`` runs it from a checkout with the dev extra.
"""

from benchmarks.command import bench

__all__ = ["bench"]
