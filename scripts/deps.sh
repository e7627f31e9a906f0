#!/usr/bin/env bash
# deps.sh — install the Debian packages chatbot needs, only those missing.
# Usage: scripts/deps.sh build|test|bench|fuzz|browser   (test and bench include build)
# browser: Node.js, npm and Debian's Chromium for tests/browser (a node and npm
# already on PATH, e.g. from NodeSource, are used as they are).
# Works as root or through sudo; idempotent (does nothing when all is there).
set -euo pipefail

build_pkgs=(gcc make cmake pkg-config libc6-dev
            libulfius-dev libmicrohttpd-dev libjansson-dev libsqlite3-dev
            libgnutls28-dev libcurl4-gnutls-dev libargon2-dev liborcania-dev libyder-dev
            libunistring-dev)
test_pkgs=(python3 python3-pytest valgrind sqlite3 procps clang libclang-rt-14-dev)
bench_pkgs=(wrk)
fuzz_pkgs=(clang libclang-rt-14-dev libjansson-dev)
browser_pkgs=(chromium)
command -v node >/dev/null && command -v npm >/dev/null || browser_pkgs+=(nodejs npm)

pkgs=("${build_pkgs[@]}")
case "${1:-build}" in
  build) ;;
  test) pkgs+=("${test_pkgs[@]}") ;;
  bench) pkgs+=("${test_pkgs[@]}" "${bench_pkgs[@]}") ;;
  fuzz) pkgs=("${fuzz_pkgs[@]}") ;;
  browser) pkgs=("${browser_pkgs[@]}") ;;
  *) echo "usage: $0 build|test|bench|fuzz|browser" >&2; exit 2 ;;
esac

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}"
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
