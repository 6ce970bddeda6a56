"""Reference: the cheapest Faust agent on the worker's topic, to tell framework cost from ours.

Built with the worker's app settings (keep in step with ``streams/worker/app.py``) from the same
``PANTAU_*`` variables, but with its own app id and nothing else registered. ``BENCH_MODE=noop``
only iterates the stream; ``send`` forwards each event and awaits the broker's acknowledgement,
as the worker does with each article's output. Run: ``python -m benchmarks.faust_ref``.
"""

from __future__ import annotations

import os
from pathlib import Path

import faust

from benchmarks.progress import Tracker
from streams.settings import get_settings
from streams.worker.faust_config import faust_options

settings = get_settings()
MODE = os.environ.get("BENCH_MODE", "noop")
tracker = Tracker(
    Path(os.environ.get("BENCH_PROGRESS", "faust-ref.json")),
    int(os.environ.get("BENCH_EXPECTED", "0")),
)

# Faust's own stream buffer, not Pantau's: the worker bounds it for its large batched records,
# and that bound costs an agent that awaits one send per event most of its rate.
options = faust_options(settings)
del options["stream_buffer_maxsize"]
app = faust.App(settings.app_id, **options)
source = app.topic(settings.articles_topic, key_type=bytes, value_type=bytes)
sink = app.topic(settings.alerts_topic, key_type=bytes, value_type=bytes)


@app.agent(source)
async def reference(stream) -> None:
    async for event in stream.events():
        tracker.started()
        if MODE == "send":
            await (await sink.send(key=event.key, value=event.value))
        tracker.done()


if __name__ == "__main__":
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    faust.Worker(app, loglevel=settings.log_level).execute_from_commandline()
