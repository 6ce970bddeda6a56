"""Operator tools: replay articles, tail alerts, read and replay dead letters, create topics,
run the embedded broker, build the dashboard, and evaluate rule packs on labelled data.

They use the engine and plain Kafka clients, never the worker: each one runs without a Faust app.
"""
