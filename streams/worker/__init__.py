"""The worker: a Faust app built by :func:`streams.worker.app.build_app`, never at import.

The data path, top to bottom: :mod:`.classify_stage` (record -> validate -> document -> match
-> alert -> :mod:`.matches` records), then :mod:`.story_stage` (-> story -> burst count) and
:mod:`.publish`, both sending through :mod:`.delivery`. Beside it: the live rules
(:mod:`.rules_follower`), the broker watch, Faust's sensor and metrics, the client workarounds,
the collector policy (:mod:`.heap`) and logging.
"""
