"""``pantau bench``: hands its arguments to the benchmark harness in the checkout's ``benchmarks/``.

The harness is not part of the package (it ships neither in the wheel nor in the image): it
needs a checkout of the repository and the dev extra (matplotlib draws its chart). Without
them the command says what is missing in one line.
"""

from __future__ import annotations

import sys
from importlib.util import find_spec
from pathlib import Path

import click

CHECKOUT = Path(__file__).resolve().parents[2]  # where streams/ is, in an editable install
DEV_EXTRA = ("matplotlib",)


@click.command(
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    add_help_option=False,  # --help goes to the harness, which lists its options
)
@click.argument("arguments", nargs=-1, type=click.UNPROCESSED)
def bench(arguments: tuple[str, ...]) -> None:
    """Measure the classifier, the worker end to end and its memory (needs a checkout)."""
    _harness().main(list(arguments), prog_name="pantau bench")


def _harness() -> click.Command:
    if not (CHECKOUT / "benchmarks" / "command.py").is_file():
        raise click.ClickException(
            "pantau bench runs from a checkout of the repository (benchmarks/ is not installed)"
        )
    missing = [name for name in DEV_EXTRA if find_spec(name) is None]
    if missing:
        raise click.ClickException(
            f"pantau bench needs the dev extra ({', '.join(missing)}): pip install -e '.[dev]'"
        )
    if str(CHECKOUT) not in sys.path:
        sys.path.insert(0, str(CHECKOUT))
    from benchmarks.command import bench as harness

    return harness
