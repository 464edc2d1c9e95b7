#!/usr/bin/env bash
# The project's test command: what README.md says to run, and what CI runs.
#
# Installs what the tests need when it is missing and the machine allows it
# (GNU parallel for the sharded-sweep test, Chromium for the report test);
# tests that need a missing tool say so and skip. Then checks formatting,
# lints and the crate docs' links (the docs are the architecture's map),
# and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

install_if_missing() {
  local cmd=$1 package=$2
  command -v "$cmd" >/dev/null 2>&1 && return 0
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "test.sh: installing $package (needed by the tests)"
    (apt-get install -y -qq "$package" >/dev/null 2>&1 \
      || (apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq "$package" >/dev/null 2>&1)) \
      || echo "test.sh: could not install $package; the tests that need it will skip"
  else
    echo "test.sh: $cmd is missing and cannot be installed here; the tests that need it will skip"
  fi
}

install_if_missing parallel parallel
install_if_missing chromium chromium

cargo fmt --check
cargo clippy --all-targets --quiet -- -D warnings
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --quiet
cargo test --quiet
