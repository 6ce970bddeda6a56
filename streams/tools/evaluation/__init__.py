"""Measure a rule pack on labelled news text, through the same classifier the worker runs.

Each public data set has a module that reads it where it lives (the data is not part of the
project) and scores a :class:`~streams.engine.Classifier` on it; ``report`` prints the tables
and ``run`` finds the data sets under a path and scores each (``pantau eval``).
"""
