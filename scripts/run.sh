#!/usr/bin/env bash
# run.sh — install what is missing, build, and start the server on its
# embedded defaults: https://127.0.0.1:8443, SQLite and a self-signed
# certificate in ./instance (created on first start). Extra arguments go to
# `chatbot serve` (e.g. --port 9443, --http).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh build
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target chatbot
exec build/chatbot serve "$@"
