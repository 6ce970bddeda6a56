"""The worker: the Faust app, its two stages, delivery, live rules, broker watch and metrics."""
