#!/usr/bin/env bash
# Installs everything the build and the tests need. Safe to re-run: each step
# is skipped when the tool is already present at the required version.
set -euo pipefail
source "$(dirname "$0")/env.sh"

TRUNK_VERSION=0.21.14
# The wasm-bindgen CLI must match the wasm-bindgen crate in Cargo.lock exactly.
WASM_BINDGEN_VERSION=$(awk '$0 == "name = \"wasm-bindgen\"" { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
[ -n "$WASM_BINDGEN_VERSION" ] || { echo "setup: no wasm-bindgen in Cargo.lock" >&2; exit 1; }

say() { echo "setup: $*"; }

if rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "rust target wasm32-unknown-unknown present"
else
  say "adding rust target wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then
  say "chromium and chromedriver present"
else
  say "installing chromium and chromium-driver with apt"
  sudo=$([ "$(id -u)" -eq 0 ] || echo sudo)
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  # A first attempt can stop halfway (dpkg re-runs for Essential upgrades while
  # the apt cache is cleaned); repair and retry once.
  $sudo apt-get install -y -qq chromium chromium-driver \
    || { $sudo apt-get -f install -y -qq && $sudo apt-get install -y -qq chromium chromium-driver; }
fi

if [ "$(trunk --version 2>/dev/null)" = "trunk $TRUNK_VERSION" ]; then
  say "trunk $TRUNK_VERSION present"
else
  say "installing trunk $TRUNK_VERSION (takes several minutes)"
  cargo install trunk --version "=$TRUNK_VERSION" --locked
fi

if [ "$(wasm-bindgen --version 2>/dev/null)" = "wasm-bindgen $WASM_BINDGEN_VERSION" ]; then
  say "wasm-bindgen-cli $WASM_BINDGEN_VERSION present"
else
  say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (takes a few minutes)"
  # The CLI's own lockfile may pin crates the registry does not serve yet.
  cargo install wasm-bindgen-cli --version "=$WASM_BINDGEN_VERSION" --locked \
    || cargo install wasm-bindgen-cli --version "=$WASM_BINDGEN_VERSION"
fi

say "installing e2e node packages (playwright-core, binaryen, axe-core) with npm ci"
(cd web/e2e && npm ci --no-audit --no-fund --loglevel=error)
say "wasm-opt: $(wasm-opt --version)"
say "done"
