#!/bin/sh
# Follow Pantau's alerts as JSON Lines and keep the high and critical ones, each alert once:
# one tab-separated line per alert (alert_id, severity, rule, headline) for a log file, a chat
# hook or a pager. `pantau tail` joins no group (it starts at once and commits nothing), so a
# restart starts again at the newest alert, or with --from-beginning at the oldest kept.
#
#   PANTAU_BROKER=kafka://broker:9092 deploy/examples/alerts-pipeline.sh [--from-beginning]
#
# Needs pantau and jq. Options are passed on to `pantau tail`.
set -eu

pantau tail --json "$@" \
  | jq --unbuffered -r 'select(.severity == "high" or .severity == "critical")
      | [.alert_id, .severity, .rule_id, (.article.title // .article.id)] | @tsv' \
  | awk -F '\t' '!seen[$1]++ { print; fflush() }'
