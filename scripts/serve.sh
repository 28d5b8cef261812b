#!/usr/bin/env bash
# Serves the playground with live rebuilds at http://127.0.0.1:8080/.
# Note: this writes its own build into dist/, which the E2E tests also read.
set -euo pipefail
bash "$(dirname "$0")/setup.sh"
source "$(dirname "$0")/env.sh"

echo "serve: building, then serving at http://127.0.0.1:8080/"
# No auto-reload: trunk serve rewrites its reload script when it serves the page, so that
# script could not match the hash the page's Content-Security-Policy allows (web/csp.mjs).
# Reload the page after a rebuild.
exec trunk serve --release --offline --no-autoreload --address 127.0.0.1 --port 8080
