"""Pantau: streaming event alerts over news articles.

The engine is a library: ``from streams import Classifier`` classifies an article without
Kafka, Faust or Prometheus (see :mod:`streams.engine`). It is loaded on first use, so that
``pantau --help`` and the worker's start do not pay for the text models by importing this.
"""

__version__ = "0.1.0"
__all__ = ["Classifier"]


def __getattr__(name: str):
    if name == "Classifier":
        from streams.engine import Classifier

        return Classifier
    raise AttributeError(f"module 'streams' has no attribute {name!r}")
