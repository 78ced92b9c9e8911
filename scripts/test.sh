#!/usr/bin/env bash
# Run the whole test suite (what .ci/run calls). Sets itself up: virtualenv,
# npm packages, and Debian's chromium for the browser tests when missing.
# Extra arguments go to pytest.
set -euo pipefail
source "$(dirname "$0")/setup.sh" dev

if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null; then
  echo "setup: installing chromium (Debian package) for the browser tests" >&2
  if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

exec .venv/bin/python -m pytest -n 2 --dist loadfile "$@"
