#!/usr/bin/env bash
# The main job on a fresh machine: set up, start Neo4j, ingest ml-100k, print stats and an
# explanation. Extra arguments go to `kgrec demo` (see `kgrec demo --help`).
set -euo pipefail
source "$(dirname "$0")/bootstrap.sh"
kgrec demo "$@"
