#!/usr/bin/env bash
# Lint, type-check and run every test; integration tests use a real Neo4j (see README).
# Extra arguments go to pytest.
set -euo pipefail
source "$(dirname "$0")/bootstrap.sh"
ruff check .
ruff format --check .
mypy
lint-imports --no-cache
python -m pytest "$@"
