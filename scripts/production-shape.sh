#!/usr/bin/env bash
# The production shape, run for real on this machine: the Temporal server built from the Go module proxy on
# PostgreSQL, two duban workers, a 500-unit storm with a worker SIGKILLed and the server restarted, the dev server
# for comparison, and a tested backup of the ledger. Prints figures as JSON. Not part of `npm test`.
#
#   scripts/production-shape.sh
#
# Settings: DUBAN_SHAPE_UNITS (500), DUBAN_SHAPE_DIR (work folder, default a new one in /tmp),
# DUBAN_SHAPE_GOBIN (where built binaries are kept or found; set it to reuse a build), DUBAN_SHAPE_TEMPORAL_VERSION
# (v1.32.0; v1.32.2 needs a newer Go than 1.26), DUBAN_SHAPE_TIMEOUT_SECONDS (900). See docs/deployment.md.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v go >/dev/null || { echo "production-shape: Go is needed to build the Temporal server (https://go.dev/dl/)" >&2; exit 2; }
command -v openssl >/dev/null || { echo "production-shape: openssl is needed for the TLS certificates" >&2; exit 2; }
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { echo "production-shape: PostgreSQL is needed: apt-get install postgresql" >&2; exit 2; }
npm run build --silent
exec node scripts/production-shape.js "$@"
