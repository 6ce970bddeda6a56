"""The messages Pantau reads and writes, and the rules it runs: one pydantic module.

The JSON Schemas in ``schemas/`` are generated from these classes (``pantau schemas``), so a
subscriber in any language can validate what it receives.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    StringConstraints,
    Tag,
    ValidationError,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

Severity = Literal["low", "medium", "high", "critical"]
FieldName = Literal["title", "body"]
LANGUAGE_CODE = r"^[a-z]{2,3}$"


def utcnow() -> datetime:
    return datetime.now(UTC)


def first_problem(error: ValidationError, whole: str) -> tuple[tuple[int | str, ...], str]:
    """The first thing pydantic refused: its location and one line for a person, ``where: what``.

    ``whole`` stands for ``where`` when the error is about the object itself. One line, because
    a record's dead-letter header and a rule pack's ``file:line:col`` message each hold one.
    """
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or whole
    return tuple(first["loc"]), f"{where}: {first['msg']}"


def _integer_id(value: object) -> object:
    """A JSON integer id is accepted and keyed as its decimal string: 7 and "7" are one article."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


ArticleId = Annotated[
    str,
    BeforeValidator(_integer_id),
    WithJsonSchema(
        {"anyOf": [{"type": "string", "minLength": 1, "maxLength": 512}, {"type": "integer"}]}
    ),
]
SURROGATE = re.compile(r"[\ud800-\udfff]")  # only a JSON escape can put one in a str
# Anything but whitespace, control characters (Cc) and the common format characters (Cf: soft
# hyphen, zero-width and direction marks, byte-order mark); rarer Cf characters are looked up.
MAYBE_TEXT = re.compile(
    r"[^\s\x00-\x1f\x7f-\x9f\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff]"
)


def has_text(value: str) -> bool:
    """Whether anything is left after removing whitespace, control and format characters."""
    return any(unicodedata.category(m.group()) != "Cf" for m in MAYBE_TEXT.finditer(value))


def require_text(title: str, body: str) -> None:
    """What an article and a rule's example both need: some text to match, not only
    whitespace, control or format characters."""
    if not has_text(title) and not has_text(body):
        raise PydanticCustomError(
            "empty_text",
            "title and body are both empty (nothing but whitespace, control or format characters)",
        )


class Article(BaseModel):
    """One news article event on the articles topic. Only ``id`` and some text are required."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=False)

    id: ArticleId = Field(
        min_length=1,
        max_length=512,
        description="Stable id of the article; a JSON integer is read as its decimal string.",
    )
    title: str = Field("", description="Headline; may be empty.")
    body: str = Field("", description="Plain text or HTML; HTML is cleaned before matching.")
    source: str | None = Field(None, description="Outlet name or domain.")
    url: str | None = None
    language: str | None = Field(
        None, pattern=LANGUAGE_CODE, description="ISO 639-1 code; detected when absent."
    )
    published_at: datetime | None = Field(None, description="When the outlet published it.")
    received_at: datetime | None = Field(None, description="When Pantau's producer received it.")

    @model_validator(mode="before")
    @classmethod
    def _no_lone_surrogate(cls, data: object) -> object:
        """A lone surrogate (a JSON escape such as \\ud800) cannot be written out as UTF-8."""
        if isinstance(data, dict):
            for name in cls.model_fields:
                value = data.get(name)
                if isinstance(value, str) and (found := SURROGATE.search(value)):
                    raise PydanticCustomError(
                        "lone_surrogate",
                        "{field} has a lone surrogate (U+{code}) at character {at}",
                        {"field": name, "code": f"{ord(found.group()):04X}", "at": found.start()},
                    )
        return data

    @model_validator(mode="after")
    def _has_text(self) -> Article:
        require_text(self.title, self.body)
        return self


class MatchedTerm(BaseModel):
    """One word of evidence: what the rule asked for and where the text has it."""

    term: str = Field(description="The rule term that matched, e.g. 'kerah' or 'ratif*'.")
    concept: str | None = Field(
        None,
        description="The concept of the rule's query the term is from, as the query names it "
        "('impose', 'default.negation'); null for a word written in the query itself.",
    )
    text: str = Field(description="The words as they appear in the article.")
    start: int = Field(
        ge=0, description="Character offset in the field's text (an HTML body: its cleaned text)."
    )
    end: int = Field(ge=0, description="Offset one past the last character.")
    html_start: int | None = Field(
        None, ge=0, description="For an HTML body: where the words start in the original HTML."
    )
    html_end: int | None = Field(None, ge=0, description="For an HTML body: where they end.")


class Evidence(BaseModel):
    """A sentence that made the rule fire, with the matched words located in it."""

    field: FieldName
    snippet: str = Field(
        description="The sentence, as in the field's text (an HTML body: cleaned)."
    )
    start: int = Field(ge=0, description="Offset of the snippet in the field's text.")
    end: int = Field(ge=0)
    html_start: int | None = Field(
        None, ge=0, description="For an HTML body: where the snippet starts in the original HTML."
    )
    html_end: int | None = Field(None, ge=0, description="For an HTML body: where it ends.")
    terms: list[MatchedTerm]


class AlertArticle(BaseModel):
    """The article an alert is about, enough to show and link it without a lookup."""

    id: str
    title: str
    url: str | None = None
    source: str | None = None
    language: str | None = None
    published_at: datetime | None = None


STORY_SOURCES = 20  # outlets a story lists: its state is rewritten on every alert
STORY_RECENT_ARTICLES = 256  # per rule, remembered to answer a redelivery as the first time


class StoryInfo(BaseModel):
    """The story an alert belongs to: reports of one event by several outlets."""

    id: str = Field(description="From the rule and the story's first alert, so replays agree.")
    first_seen: datetime = Field(description="Time of the story's earliest article.")
    article_count: int = Field(
        ge=1,
        description="Articles in the story so far. An article delivered again after a crash "
        f"counts once, unless it is older than the rule's last {STORY_RECENT_ARTICLES} alerts.",
    )
    sources: list[str] = Field(
        description=f"Distinct outlets in the order they reported, the first {STORY_SOURCES}."
    )


StoryStatus = Literal["new", "update"]


class Alert(BaseModel):
    """A rule matched an article. Keyed on the alerts topic by ``alert_id``."""

    alert_id: str = Field(description="Same article + rule + rule version -> same id.")
    rule_id: str
    rule_version: str
    rule_title: str
    severity: Severity
    article: AlertArticle
    score: float = Field(ge=0, description="Evidence weight; title matches count more.")
    evidence: list[Evidence]
    countries: list[str] = Field(description="ISO 3166-1 alpha-2 codes in the evidence.")
    story: StoryInfo | None = Field(None, description="Set by the worker's story stage.")
    story_status: StoryStatus | None = Field(
        None, description="'new' for a story's first alert, else 'update'."
    )
    detected_at: datetime = Field(default_factory=utcnow)

    @staticmethod
    def make_id(article_id: str, rule_id: str, rule_version: str) -> str:
        """Deterministic, so subscribers can drop the duplicates that at-least-once allows."""
        key = "\x1f".join((article_id, rule_id, rule_version)).encode()
        return hashlib.sha256(key).hexdigest()[:32]


Verdict = Literal["correct", "wrong"]
VERDICTS: tuple[Verdict, ...] = ("correct", "wrong")


class Feedback(BaseModel):
    """A reader's verdict on an alert. On the feedback topic keyed by ``alert_id``, which is
    compacted: the last verdict on an alert wins. The alert's rule comes from the alert."""

    model_config = ConfigDict(extra="ignore")

    alert_id: str = Field(pattern=r"^[0-9a-f]{32}$", description="The alert's ``alert_id``.")
    verdict: Verdict = Field(
        description="'correct': the alert reports what its rule is for; 'wrong': a false alarm."
    )
    reason: str | None = Field(None, max_length=2000, description="Why, for the rule's author.")
    by: str | None = Field(None, max_length=200, description="Who judged it.")
    given_at: datetime = Field(default_factory=utcnow, description="When it was judged.")


RULE_ID = re.compile(r"^[a-z][a-z0-9_]{1,63}$")


class RuleExample(BaseModel):
    """A text a rule must fire on or stay quiet on, as an article (a string is its body)."""

    model_config = ConfigDict(extra="forbid")

    title: str = ""
    body: str = ""
    language: str | None = Field(
        None, pattern=LANGUAGE_CODE, description="ISO 639-1 code; detected when absent."
    )

    @model_validator(mode="after")
    def _has_text(self) -> RuleExample:
        require_text(self.title, self.body)
        return self


ExampleText = Annotated[
    Annotated[Annotated[str, Field(min_length=1)], Tag("text")]
    | Annotated[RuleExample, Tag("article")],
    Discriminator(lambda value: "text" if isinstance(value, str) else "article"),
]
"""The body alone, or an article; tagged so that a bad article's error is about the article."""


class RuleExamples(BaseModel):
    """A rule's own tests, run by ``pantau rules test``, ``rules check`` and ``rules push``."""

    model_config = ConfigDict(extra="forbid")

    fires: list[ExampleText] = Field(default_factory=list, description="Texts it must fire on.")
    quiet: list[ExampleText] = Field(
        default_factory=list, description="Texts it must stay quiet on."
    )


class Rule(BaseModel):
    """A watch rule: a query over concepts and terms, and what to call its alerts."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=RULE_ID.pattern, description="snake_case, unique in a pack.")
    title: str = Field(min_length=1)
    description: str = Field("", description="What counts and what does not.")
    severity: Severity = "medium"
    tags: list[str] = Field(default_factory=list)
    version: str = Field("1", min_length=1, description="Bump it when the query changes.")
    enabled: bool = True
    query: str = Field(min_length=1, description="Query in the Pantau rule language.")
    languages: list[str] = Field(
        default_factory=list, description="Only articles in these languages; empty means all."
    )
    min_terms: int = Field(1, ge=1, description="Distinct evidence terms needed to fire.")
    near_scope: Literal["sentence", "field"] = Field(
        "sentence", description="Whether NEAR may reach across sentences of a field."
    )
    examples: RuleExamples = Field(
        default_factory=RuleExamples, description="Texts it must fire on and must not."
    )


TermLanguage = Literal["en", "id", "ms"]  # the morphology paths a concept's terms can take
Name = Annotated[str, StringConstraints(pattern=RULE_ID.pattern)]


class RulePack(BaseModel):
    """A YAML rule file: its concepts, then rules that refer to them as ``@name``.

    A pack's concepts are its own: another pack's rules use them as ``@pack.name``. Checks
    that need a file position (duplicate rule ids, unknown concepts) are made where the
    YAML is read (:mod:`streams.rules.packs`).
    """

    model_config = ConfigDict(extra="forbid")

    name: Name | None = Field(
        None,
        description="The pack's name, which other packs use as @name.concept; "
        "default: the file name without extension.",
    )
    version: str = Field("1", min_length=1, description="Version of the pack as a whole.")
    concepts: dict[Name, dict[TermLanguage, list[str]]] = Field(
        default_factory=dict, description="name -> language -> terms."
    )
    rules: list[Rule]


class ClassifyResult(BaseModel):
    """One output line of ``pantau classify``."""

    article_id: str
    rule_ids: list[str]
    alerts: list[Alert]


class PackStatus(BaseModel):
    """One pack of a worker's running rule set."""

    name: str
    version: str = Field(description="The pack's own 'version:'.")
    rules: int = Field(ge=0, description="Its enabled rules.")
    origin: Literal["file", "topic"] = Field(description="A rule file, or the rules topic.")


class WorkerStatus(BaseModel):
    """What a running worker reports on the status topic (key: ``worker``), at start, on every
    rules change and every ``status_interval`` seconds, for ``pantau rules list``."""

    worker: str = Field(description="host:pid")
    app_id: str
    rules_topic: str = Field(description="The rules topic it follows.")
    rule_set: str = Field(description="Version of the running rule set (a content hash).")
    rules: int = Field(ge=0, description="Enabled rules in the running set.")
    packs: list[PackStatus]
    rejected: str | None = Field(
        None, description="The last rules-topic pack this worker refused, with the error."
    )
    started_at: datetime
    updated_at: datetime
    interval: float = Field(gt=0, description="Seconds between reports: older means stopped.")
