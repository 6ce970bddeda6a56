"""deliver(): what the broker did not acknowledge is sent again, never dropped or raised."""

from __future__ import annotations

import asyncio

from aiokafka.errors import KafkaTimeoutError
from prometheus_client import REGISTRY

from streams.worker.delivery import Outgoing, deliver


class FlakyTopic:
    """A topic whose first ``failures`` sends fail the way an expired producer batch does."""

    def __init__(self, failures: int):
        self.failures = failures
        self.sent: list[bytes] = []

    async def send(self, key, value, headers=None) -> asyncio.Future:
        self.sent.append(value)
        future = asyncio.get_running_loop().create_future()
        if len(self.sent) <= self.failures:
            future.set_exception(KafkaTimeoutError("batch expired"))
        else:
            future.set_result(None)
        return future


def retries(what: str) -> float:
    return REGISTRY.get_sample_value("pantau_send_retries_total", {"what": what}) or 0.0


def test_a_failed_send_is_sent_again_until_acknowledged():
    flaky, steady = FlakyTopic(failures=1), FlakyTopic(failures=0)
    before = retries("test")
    records = [Outgoing(flaky, b"a", b"first"), Outgoing(steady, b"b", b"second")]
    asyncio.run(deliver(records, "test"))
    assert flaky.sent == [b"first", b"first"]  # failed once, then acknowledged
    assert steady.sent == [b"second"]  # acknowledged the first time: not sent twice
    assert retries("test") == before + 1
