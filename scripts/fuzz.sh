#!/usr/bin/env bash
# fuzz.sh — libFuzzer (clang) under ASan + UBSan over two targets, each
# given half of the time:
#   fuzz_schema  chatbot-gen's lexer, parser and checker, seeded with every
#                schema in the repository;
#   fuzz_sse     the bot's event-stream parser and chunk interpreter
#                (src/bot/sse.c), seeded with tests/fuzz/corpus_sse.
#   scripts/fuzz.sh [SECONDS]      (default 60, in total)
# Exit 0 when no crash, leak or hang was found; findings go to test-output/fuzz/.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
half=$(( secs / 2 > 0 ? secs / 2 : 1 ))
scripts/deps.sh fuzz
out=test-output/fuzz
mkdir -p "$out/corpus" "$out/corpus_sse"
flags=(-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -D_GNU_SOURCE)
clang "${flags[@]}" -Igen -o "$out/fuzz_schema" tests/fuzz/fuzz_schema.c gen/ast.c gen/lexer.c \
      gen/parser.c gen/check.c -ljansson
clang "${flags[@]}" -Isrc -o "$out/fuzz_sse" tests/fuzz/fuzz_sse.c src/bot/sse.c src/util/buf.c \
      src/util/mem.c -ljansson
"$out/fuzz_schema" -max_total_time="$half" -max_len=8192 -timeout=10 -print_final_stats=1 \
      -artifact_prefix="$out/" "$out/corpus" tests/fuzz/corpus schema tests/fixtures \
      tests/gen/errors 2>"$out/log" || { tail -40 "$out/log"; exit 1; }
grep -E "stat::number_of_executed_units|Done" "$out/log" | tail -2
"$out/fuzz_sse" -max_total_time="$half" -max_len=4096 -timeout=10 -print_final_stats=1 \
      -artifact_prefix="$out/sse-" "$out/corpus_sse" tests/fuzz/corpus_sse \
      2>"$out/log_sse" || { tail -40 "$out/log_sse"; exit 1; }
grep -E "stat::number_of_executed_units|Done" "$out/log_sse" | tail -2
