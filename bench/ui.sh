#!/usr/bin/env bash
# ui.sh — issue 5's browser benchmarks in one command: installs Chromium
# (and node/npm if missing), the pinned playwright-core when node_modules/
# is missing, builds the server, then runs bench/ui.mjs (bytes of a first
# visit, navigation → interactive chat pane, frame timings while a
# 2,000-message conversation scrolls) and prints Markdown for
# bench/RESULTS.md. Progress goes to stderr.
#   bench/ui.sh [ui.mjs options: --loads 10 --rounds 3 --scrolls 3 --messages 2000 --step 400 --trace --json FILE]
# --trace also writes test-output/ui-load-trace.json and ui-scroll-trace.json
# (open them in Chromium's Performance panel).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh browser
scripts/deps.sh build
# the pinned packages only (scripts/assets.sh would also rewrite static/)
[ -d node_modules/playwright-core ] || npm ci --no-audit --no-fund --loglevel=error
cmake --build build -j"$(nproc)" --target chatbot >/dev/null
mkdir -p test-output
echo "command: bench/ui.sh $*  ($(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(date -u +%F), load average $(cut -d' ' -f1-3 /proc/loadavg))"
exec node bench/ui.mjs "$@"
