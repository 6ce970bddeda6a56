"""Sampling profiles with py-spy: record a process for a while, then rank frames by own time.

py-spy reads another process's memory, so the process under test runs unmodified at close to
full speed. Its "raw" output is one folded stack per line with a sample count; a frame's own
(self) time is the samples where it is the leaf, its total time those where it is anywhere.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

LINE = re.compile(r":\d+\)$")


def py_spy() -> str | None:
    beside = Path(sys.executable).with_name("py-spy")
    return str(beside) if beside.exists() else shutil.which("py-spy")


def record(pid: int, seconds: float, output: Path, rate: int = 100) -> subprocess.Popen:
    """Start sampling ``pid`` for ``seconds`` into a folded-stacks file; returns the sampler."""
    binary = py_spy()
    if binary is None:
        raise FileNotFoundError("py-spy is not installed (pip install py-spy)")
    command = [binary, "record", "--pid", str(pid), "--duration", str(max(1, round(seconds)))]
    command += ["--rate", str(rate), "--format", "raw", "--output", str(output)]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def short(frame: str) -> str:
    """``function (aiokafka/conn.py:529)`` without the line: one entry per function."""
    return LINE.sub(")", frame.strip())


def top_frames(path: Path, limit: int = 15) -> dict:
    """Self and total shares of the busiest frames in a folded-stacks file."""
    own: Counter[str] = Counter()
    anywhere: Counter[str] = Counter()
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [short(f) for f in stack.split(";") if f]
        total += count
        own[frames[-1]] += count
        for frame in set(frames):
            anywhere[frame] += count
    share = (lambda n: round(100 * n / total, 1)) if total else (lambda n: 0.0)
    return {
        "samples": total,
        "self": [{"frame": f, "percent": share(n)} for f, n in own.most_common(limit)],
        "total": [{"frame": f, "percent": share(n)} for f, n in anywhere.most_common(limit)],
    }
