"""The data path's first step: a raw record becomes a valid :class:`Article`, or says why not.

The worker dead-letters a :class:`BadRecord` with its ``reason``; ``pantau classify`` prints it
with where the line was. Both call :func:`parse_record`, so they refuse the same records.
"""

from __future__ import annotations

import json

from pydantic import ValidationError

from streams.models import Article, first_problem


class BadRecord(ValueError):
    """A record that cannot be classified; ``reason`` is a short, bounded class for metrics."""

    def __init__(self, reason: str, message: str):
        self.reason, self.message = reason, message
        super().__init__(f"{reason}: {message}")


def parse_record(raw: bytes | str, max_body_bytes: int) -> Article:
    """Validate one raw record into an :class:`Article`, or raise :class:`BadRecord`."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise BadRecord("invalid_utf8", f"not UTF-8 at byte {error.start}") from None
    try:
        data = json.loads(raw)
    except RecursionError:
        raise BadRecord("too_deep", "JSON nested too deeply") from None
    except ValueError as error:
        raise BadRecord("not_json", str(error)) from None
    if not isinstance(data, dict):
        raise BadRecord("not_object", f"expected a JSON object, got {type(data).__name__}")
    body = data.get("body")
    if isinstance(body, str) and len(body.encode("utf-8")) > max_body_bytes:
        raise BadRecord("too_large", f"body is over the {max_body_bytes}-byte limit")
    try:
        return Article.model_validate(data)
    except ValidationError as error:
        _, message = first_problem(error, "article")
        reason = "empty_text" if "both empty" in message else "invalid_fields"
        raise BadRecord(reason, message) from None
