#!/usr/bin/env bash
# fuzz.sh — libFuzzer (clang) over chatbot-gen's lexer, parser and checker,
# under ASan + UBSan, seeded with every schema in the repository.
#   scripts/fuzz.sh [SECONDS]      (default 60)
# Exit 0 when no crash, leak or hang was found; findings go to test-output/fuzz/.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
scripts/deps.sh fuzz
out=test-output/fuzz
mkdir -p "$out/corpus"
clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -D_GNU_SOURCE \
      -Igen -o "$out/fuzz_schema" tests/fuzz/fuzz_schema.c gen/ast.c gen/lexer.c gen/parser.c \
      gen/check.c -ljansson
"$out/fuzz_schema" -max_total_time="$secs" -max_len=8192 -timeout=10 -print_final_stats=1 \
      -artifact_prefix="$out/" "$out/corpus" tests/fuzz/corpus schema tests/fixtures \
      tests/gen/errors 2>"$out/log" || { tail -40 "$out/log"; exit 1; }
grep -E "stat::number_of_executed_units|Done" "$out/log" | tail -2
