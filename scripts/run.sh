#!/usr/bin/env bash
# Serve the app on its embedded default: SQLite under instance/, one process,
# no Redis, at http://localhost:${PORT:-5000}. Prints how to log in.
set -euo pipefail
source "$(dirname "$0")/setup.sh" run

export FLASK_APP=wsgi PORT="${PORT:-5000}"
if [ -z "${N8N_WEBHOOK_SECRET:-}" ]; then
  # Kept in instance/n8n_webhook_secret (0600, in a 0700 instance/), like the app's own secrets.
  N8N_WEBHOOK_SECRET=$(.venv/bin/python -c \
    "import config; print(config.instance_secret('n8n_webhook_secret', 24))")
  export N8N_WEBHOOK_SECRET
fi

.venv/bin/flask db upgrade 2>&1 | grep -v '^INFO' || true
echo
echo "Inbox running at http://localhost:$PORT  —  log in at http://localhost:$PORT/login with:"
.venv/bin/flask users demo
echo "n8n webhook secret (header X-Webhook-Secret): $N8N_WEBHOOK_SECRET"
echo
exec .venv/bin/gunicorn -k geventwebsocket.gunicorn.workers.GeventWebSocketWorker -w 1 \
  --worker-connections 10000 --no-control-socket -b "0.0.0.0:$PORT" wsgi:app
