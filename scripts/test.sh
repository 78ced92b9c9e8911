#!/usr/bin/env bash
# Run the whole test suite (what .ci/run calls). Sets itself up: virtualenv,
# npm packages, and the Debian packages the tests start (chromium, nginx) when missing.
# Extra arguments go to pytest.
set -euo pipefail
source "$(dirname "$0")/setup.sh" dev

# Debian packages the tests start for real: chromium (the panel's browser tests),
# nginx with openssl for its certificate (the proxy of the rolling-restart test) and
# coturn (the TURN server the browser call test relays through).
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v turnserver >/dev/null || missing+=(coturn)
command -v openssl >/dev/null || missing+=(openssl)
if [ "${#missing[@]}" -gt 0 ] && command -v apt-get >/dev/null; then
  echo "setup: installing ${missing[*]} (Debian packages) for the tests" >&2
  if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# The whole suite on SQLite, then again on PostgreSQL (TEST_DATABASE=postgres:
# unit tests on a PostgreSQL database of their own, live servers on fresh ones).
# Tests marked database_pinned choose their database themselves and run in the
# first pass only. TEST_DATABASES="sqlite" (or "postgres") runs one pass.
status=0
for database in ${TEST_DATABASES:-sqlite postgres}; do
  echo "== the test suite on $database" >&2
  only=()
  [ "$database" = postgres ] && only=(-m "not database_pinned")
  code=0
  TEST_DATABASE="$database" .venv/bin/python -m pytest -n 2 --dist loadfile "${only[@]}" "$@" || code=$?
  # 5 (no tests) is fine on PostgreSQL when every selected test was pinned.
  if [ "$code" -eq 5 ] && [ "$database" = postgres ]; then code=0; fi
  if [ "$code" -ne 0 ]; then status=$code; fi
done

# The socket integration and hostile-client tests again on the libraries' public
# paths (FAST_TRANSPORT=0, app/transport): every guard must hold without the fast
# path. On SQLite, after the whole suite; skipped when arguments chose the tests,
# unless TRANSPORT_PUBLIC_PASS=1.
if [ $# -eq 0 ] || [ "${TRANSPORT_PUBLIC_PASS:-}" = 1 ]; then
  echo "== socket and hostile-client tests on the public transport paths" >&2
  targets=("$@")
  if [ $# -eq 0 ]; then
    targets=(tests/integration/test_hostile_*.py tests/integration/test_transport_modes.py
      tests/integration/test_realtime_live.py)
  fi
  code=0
  FAST_TRANSPORT=0 TEST_DATABASE=sqlite .venv/bin/python -m pytest -n 2 --dist loadfile \
    "${targets[@]}" || code=$?
  if [ "$code" -ne 0 ]; then status=$code; fi
fi
exit "$status"
