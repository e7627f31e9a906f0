#!/usr/bin/env bash
# test.sh — install what is missing, build, and run every test:
#   1. unit tests and `chatbot-gen --check` (ctest), the generator under valgrind;
#   2. integration tests: the real server over real HTTPS on loopback (pytest);
#   3. the integration tests again against an AddressSanitizer + UBSan build;
#   4. 30 s of libFuzzer over the schema parser (scripts/fuzz.sh);
#   5. the front end: static/icons.svg and static/vendor/ current
#      (scripts/assets.sh --check), then the browser tests (tests/browser:
#      node --test, playwright-core driving Debian's Chromium).
# Ends with one line "tests: N passed, M failed"; exit status 0 only when
# every suite ran and nothing failed. Results: test-output/junit/*.xml.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=$root/test-output
jobs=$(nproc)
# Debian's interpreter, which python3-pytest installs into (not a pyenv one on PATH).
py=/usr/bin/python3

scripts/deps.sh test || { echo "tests: could not install dependencies"; exit 1; }
rm -rf "$out/junit" && mkdir -p "$out/junit"

status=0
step() { echo; echo "=== $*"; }

step "build (warnings are errors)"
if ! { cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null &&
       cmake --build build -j"$jobs"; }; then
  echo "tests: build failed"; exit 1
fi

step "unit tests, generator checks"
ctest --test-dir build --output-on-failure -j"$jobs" \
      --output-junit "$out/junit/unit.xml" || status=1

step "integration tests"
CHATBOT_BUILD=$root/build "$py" -m pytest -q tests/integration \
      --junitxml="$out/junit/integration.xml" -o junit_suite_name=integration || status=1

if [ "${CHATBOT_SKIP_ASAN:-0}" != 1 ]; then
  step "build with AddressSanitizer + UndefinedBehaviorSanitizer"
  if cmake -S . -B build-asan -DCHATBOT_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null &&
     cmake --build build-asan -j"$jobs" --target chatbot chatbot-fixture; then
    step "integration tests under ASan + UBSan"
    CHATBOT_BUILD=$root/build-asan CHATBOT_SANITIZED=1 "$py" -m pytest -q tests/integration \
          --junitxml="$out/junit/integration-asan.xml" -o junit_suite_name=integration-asan || status=1
  else
    echo "tests: sanitizer build failed"; status=1
  fi
fi

step "fuzz the schema parser (libFuzzer, 30 s)"
fuzz_status=passed
scripts/fuzz.sh 30 || { fuzz_status=failed; status=1; }
"$py" - "$out/junit/fuzz.xml" "$fuzz_status" <<'PY'
import sys
path, status = sys.argv[1], sys.argv[2]
body = '<failure message="the fuzzer found a crash: see test-output/fuzz/"/>' if status == "failed" else ""
open(path, "w").write('<testsuite name="fuzz"><testcase classname="fuzz" name="schema_parser_30s">'
                      + body + '</testcase></testsuite>\n')
PY

step "front-end assets are current (scripts/assets.sh --check)"
assets_status=passed
if ! { scripts/deps.sh browser && scripts/assets.sh --check; }; then
  assets_status=failed; status=1
fi
"$py" - "$out/junit/assets.xml" "$assets_status" <<'PY'
import sys
path, status = sys.argv[1], sys.argv[2]
body = '<failure message="static/icons.svg or static/vendor/ is stale: run scripts/assets.sh"/>' if status == "failed" else ""
open(path, "w").write('<testsuite name="assets"><testcase classname="assets" name="sprite_and_vendor_current">'
                      + body + '</testcase></testsuite>\n')
PY

step "browser tests (Chromium)"
rm -rf "$out/screenshots"
CHATBOT_BUILD=$root/build node --test \
      --test-reporter=spec --test-reporter-destination=stdout \
      --test-reporter=./tests/browser/junit-reporter.mjs \
      --test-reporter-destination="$out/junit/browser.xml" \
      tests/browser/*.test.mjs || status=1

step "summary"
"$py" scripts/summarize.py "$out"/junit/*.xml || status=1
exit $status
