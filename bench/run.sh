#!/usr/bin/env bash
# The one command of issue 7: installs what the bench needs (once), then runs bench/run.py.
#   bench/run.sh            full run -> docs/performance.md, docs/performance.png
#   bench/run.sh --quick    a few minutes -> bench/results/quick/
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c "import matplotlib, uvloop" 2>/dev/null; then
  python3 -m venv .venv
  .venv/bin/pip install --quiet -r requirements.txt
fi
if [ ! -d peer/node_modules/socket.io ]; then
  (cd peer && npm ci --no-audit --no-fund --loglevel=error)
fi
exec .venv/bin/python run.py "$@"
