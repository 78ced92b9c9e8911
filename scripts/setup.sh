# Sourced by run.sh and test.sh: a virtualenv with the pinned requirements, and
# the npm packages from the lock file. Re-installs only when a requirements file
# or the lock file changed. Usage: source scripts/setup.sh [run|dev]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

requirements=requirements.txt
[ "${1:-run}" = dev ] && requirements=requirements-dev.txt

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv" >&2
  "${PYTHON:-python3}" -m venv .venv
fi
stamp=".venv/.installed-$(cat requirements*.txt | sha256sum | cut -c1-16)-$requirements"
if [ ! -f "$stamp" ]; then
  echo "setup: installing $requirements" >&2
  if ! .venv/bin/pip install --disable-pip-version-check -r "$requirements" > .venv/pip.log 2>&1; then
    tail -n 30 .venv/pip.log >&2
    exit 1
  fi
  touch "$stamp"
fi

lock_stamp="node_modules/.installed-$(sha256sum package-lock.json | cut -c1-16)"
if [ ! -f "$lock_stamp" ]; then
  echo "setup: installing npm packages from package-lock.json" >&2
  npm ci --no-audit --no-fund --silent
  touch "$lock_stamp"
fi
