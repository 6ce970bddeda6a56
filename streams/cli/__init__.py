"""``pantau``: one command for the worker, the embedded broker, replays, tails and rule tools.

Every command is a click command in a module of this package, named after the command, and
added to :func:`main` in ``COMMANDS`` below. A command imports what it drives when it runs,
so ``pantau --help`` stays fast.
"""

from __future__ import annotations

import sys

import click

from streams.cli import (
    backtest,
    bench,
    evaluate,
    feedback,
    generated,
    live,
    records,
    rules,
    rules_test,
    run,
    terms,
)
from streams.settings import get_settings


class _Commands(click.Group):
    """Where a user's error ends any command: one line, exit status 1, no traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except Exception as error:
            message = _user_error(error)
            if message is None:
                raise
            raise click.ClickException(message) from None


def _user_error(error: Exception) -> str | None:
    """A located error in a rule pack or an article file, or a Kafka client's error with the
    broker it was using.

    Only a module already imported can have raised its errors, so neither is imported here:
    `pantau --help` stays fast.
    """
    packs = sys.modules.get("streams.rules.packs")
    if packs and isinstance(error, packs.RulePackError):
        return str(error)
    replay = sys.modules.get("streams.tools.replay")
    if replay and isinstance(error, replay.InputError):
        return str(error)
    kafka_errors = sys.modules.get("kafka.errors")
    if kafka_errors and isinstance(error, kafka_errors.KafkaError):
        return f"Kafka at {get_settings().broker}: {error}"
    return None


@click.group(
    cls=_Commands,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
def main() -> None:
    """Pantau watches a stream of news articles and raises alerts when watch rules match.

    \b
    Quick start (embedded broker, seed articles):  pantau demo
    Production: set PANTAU_BROKER and run `pantau worker` next to your Kafka.
    """


COMMANDS = (
    run.worker,
    run.broker,
    run.demo,
    records.replay,
    records.tail,
    records.dlq,
    rules.classify,
    rules.rules,
    feedback.feedback,
    generated.schemas,
    generated.dashboard,
    evaluate.eval_command,
    bench.bench,
)
# `pantau rules ...` commands kept in modules of their own
RULES_COMMANDS = (
    live.rules_list,
    terms.rules_terms,
    rules_test.rules_test,
    backtest.rules_backtest,
)
for _command in COMMANDS:
    main.add_command(_command)
for _command in RULES_COMMANDS:
    rules.rules.add_command(_command)
