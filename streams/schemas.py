"""JSON Schemas for subscribers, generated from the pydantic models (never edited by hand)."""

from __future__ import annotations

import json

from streams.models import Alert, Article, Feedback, RulePack, WorkerStatus

MODELS = {
    "article": Article,
    "alert": Alert,
    "feedback": Feedback,
    "rule-pack": RulePack,
    "worker-status": WorkerStatus,
}


def generated() -> dict[str, str]:
    """File name -> schema text, stable so that a drift test can compare bytes."""
    out = {}
    for name, model in MODELS.items():
        schema = model.model_json_schema(mode="serialization")
        out[f"{name}.schema.json"] = json.dumps(schema, indent=2, sort_keys=True) + "\n"
    return out
