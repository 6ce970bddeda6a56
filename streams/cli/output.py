"""Where commands write: results on standard output, progress and errors on standard error."""

from rich.console import Console

console = Console(highlight=False, soft_wrap=True)
errors = Console(stderr=True, highlight=False, soft_wrap=True)
