"""The data path's first step: a raw record becomes a valid :class:`Article`, or says why not.

The worker dead-letters a :class:`BadRecord` with its ``reason``; ``pantau classify`` prints it
with where the line was. Both call :func:`parse_record`, so they refuse the same records.
Verdicts on alerts pass the same first checks (:func:`parse_feedback`).
"""

from __future__ import annotations

import json

from pydantic import ValidationError

from streams.models import Article, Feedback, first_problem

# Why an article cannot be classified: one short, bounded class each (a metrics label).
REASONS = (
    "invalid_utf8",
    "too_deep",
    "not_json",
    "duplicate_key",
    "not_object",
    "too_large",
    "lone_surrogate",
    "empty_text",
    "invalid_fields",
)
MODEL_REASONS = frozenset({"lone_surrogate", "empty_text"})  # pydantic error types of Article


class BadRecord(ValueError):
    """A record that cannot be taken in; ``reason`` is one of :data:`REASONS` (a verdict's can
    also be ``bad_verdict``)."""

    def __init__(self, reason: str, message: str):
        self.reason, self.message = reason, message
        super().__init__(f"{reason}: {message}")


class _DuplicateKey(Exception):
    def __init__(self, key: str):
        self.key = key


def _unique_keys(pairs: list[tuple[str, object]]) -> dict:
    """An object's members, refusing a key given twice: JSON parsers disagree on which wins."""
    members = dict(pairs)
    if len(members) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return members


def parse_record(raw: bytes | str, max_body_bytes: int) -> Article:
    """Validate one raw record into an :class:`Article`, or raise :class:`BadRecord`."""
    data = json_object(raw)
    body = data.get("body")
    if isinstance(body, str) and len(body.encode("utf-8", "surrogatepass")) > max_body_bytes:
        raise BadRecord("too_large", f"body is over the {max_body_bytes}-byte limit")
    try:
        return Article.model_validate(data)
    except ValidationError as error:
        _, message = first_problem(error, "article")
        kind = error.errors()[0]["type"]
        raise BadRecord(kind if kind in MODEL_REASONS else "invalid_fields", message) from None


def parse_feedback(raw: bytes | str, key: bytes | None) -> Feedback:
    """Validate one record of the feedback topic, keyed by its alert id when it has a key."""
    data = json_object(raw)
    try:
        feedback = Feedback.model_validate(data)
    except ValidationError as error:
        location, message = first_problem(error, "feedback")
        reason = "bad_verdict" if location == ("verdict",) else "invalid_fields"
        raise BadRecord(reason, message) from None
    if key is not None and key != feedback.alert_id.encode():
        raise BadRecord("invalid_fields", f"the key is not the alert_id {feedback.alert_id}")
    return feedback


def json_object(raw: bytes | str) -> dict:
    """A record's JSON object, or the :class:`BadRecord` that says why it is not one.

    A byte-order mark before the JSON is ignored, as RFC 8259 lets a parser do.
    """
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise BadRecord("invalid_utf8", f"not UTF-8 at byte {error.start}") from None
    try:
        data = json.loads(raw.removeprefix("\ufeff"), object_pairs_hook=_unique_keys)
    except RecursionError:
        raise BadRecord("too_deep", "JSON nested too deeply") from None
    except _DuplicateKey as error:
        raise BadRecord("duplicate_key", f"the key {error.key[:100]!r} appears twice") from None
    except ValueError as error:
        raise BadRecord("not_json", str(error)) from None
    if not isinstance(data, dict):
        raise BadRecord("not_object", f"expected a JSON object, got {type(data).__name__}")
    return data
