"""Measure a rule pack on labelled news text, through the same classifier the worker runs.

Each public data set has a module that reads it where it lives (the data is not part of the
project) and scores a :class:`~streams.classify.Classifier` on it; ``report`` prints and
serialises the results and ``command`` is ``pantau eval``.
"""
