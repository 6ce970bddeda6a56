"""Pantau: streaming event alerts over news articles."""

__version__ = "0.1.0"
