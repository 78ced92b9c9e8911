#!/usr/bin/env bash
# The one command of issue 7: installs what the bench needs (once), then runs bench/run.py.
#   bench/run.sh            full run -> docs/performance.md, docs/performance.png
#   bench/run.sh --quick    a few minutes -> bench/results/quick/
set -euo pipefail
# The servers under test run from the project's own .venv (the Procfile's
# gunicorn): set the project up first, as scripts/run.sh does, on a fresh clone too.
source "$(dirname "$0")/../scripts/setup.sh" run
cd bench
if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c "import matplotlib, uvloop" 2>/dev/null; then
  python3 -m venv .venv
  .venv/bin/pip install --quiet -r requirements.txt
fi
if [ ! -d peer/node_modules/socket.io ]; then
  (cd peer && npm ci --no-audit --no-fund --loglevel=error)
fi
exec .venv/bin/python run.py "$@"
