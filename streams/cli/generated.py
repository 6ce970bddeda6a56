"""Commands that write files generated from code: the JSON Schemas and the Grafana dashboard.

Each has ``--check``, which exits 1 when the file in the repository differs from what the code
generates (CI runs it, and the tests compare the same bytes).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from streams.cli.output import console, errors

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


@click.command()
@click.option("--check", is_flag=True, help="Exit 1 if schemas/ differs from the models.")
def schemas(check: bool) -> None:
    """Write the JSON Schemas of article, alert, feedback, rule pack and worker status into
    schemas/."""
    from streams.schemas import generated

    stale = []
    for name, text in generated().items():
        path = SCHEMAS / name
        if check:
            if not path.exists() or path.read_text() != text:
                stale.append(name)
        else:
            SCHEMAS.mkdir(exist_ok=True)
            path.write_text(text)
            console.print(f"wrote {path}")
    if stale:
        errors.print(f"schemas out of date: {', '.join(stale)}; run `pantau schemas`")
        sys.exit(1)


@click.command()
@click.option("--check", is_flag=True, help="Exit 1 if the JSON file differs from the code.")
def dashboard(check: bool) -> None:
    """Write the Grafana dashboard (deploy/grafana/dashboards/pantau.json) from its code."""
    from streams.tools import dashboard as board

    text, path = board.dashboard_json(), board.DASHBOARD_PATH
    if check:
        if not path.exists() or path.read_text() != text:
            click.echo(f"{path} is out of date; run `pantau dashboard`", err=True)
            sys.exit(1)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    click.echo(f"wrote {path}")
