"""Configuration read from the environment (see the README's table of variables)."""

import os
import secrets
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"
# Secrets generated for the embedded default when the environment gives none.
INSTANCE_SECRETS = {"SECRET_KEY": "secret_key", "JWT_SECRET_KEY": "jwt_secret_key"}


def fill_instance_secrets(config: dict) -> None:
    """Give each secret the environment left unset a generated one kept in instance/.

    Called when an app is built (create_app), never at import: importing this
    module writes nothing.
    """
    for key, name in INSTANCE_SECRETS.items():
        if not config.get(key):
            config[key] = _instance_secret(name)


def _instance_secret(name: str) -> str:
    """A random secret kept in instance/, so local processes and restarts share it.

    Production sets the variable instead; this only spares a developer from
    inventing secrets for the embedded default.
    """
    return instance_secret(name)


def instance_secret(name: str, nbytes: int = 48) -> str:
    """The secret kept in instance/<name>, generated (owner-only) the first time.

    scripts/run.sh takes the n8n webhook secret from here too.
    """
    path = make_private_dir(INSTANCE_DIR) / name
    if not path.exists():
        write_private(path, secrets.token_urlsafe(nbytes))
    path.chmod(0o600)
    return path.read_text().strip()


def make_private_dir(path) -> Path:
    """The folder `path`, created or narrowed to its owner only (0700): instance/
    holds the secrets, the demo passwords and the SQLite database."""
    path = Path(path)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.chmod(0o700)
    return path


def write_private(path, text: str) -> None:
    """Write `text` to a file only its owner may read (0600), from its first byte on."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        os.fchmod(handle.fileno(), 0o600)  # an existing file keeps its mode otherwise
        handle.write(text)


def database_url(raw: str | None) -> str:
    """The SQLAlchemy URL for DATABASE_URL, defaulting to SQLite under instance/."""
    if not raw:  # create_app makes the folder
        return f"sqlite:///{INSTANCE_DIR / 'inbox.db'}"
    # Heroku writes postgres://, which SQLAlchemy refuses; psycopg 3 is the driver.
    for prefix in ("postgres://", "postgresql://"):
        if raw.startswith(prefix):
            return "postgresql+psycopg://" + raw[len(prefix) :]
    return raw


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


def _float(name: str, default: float) -> float:
    return float(os.environ.get(name) or default)


class Config:
    """Settings for a served app; every value can come from the environment."""

    # Unset: generated and kept in instance/ when the app is built (fill_instance_secrets).
    SECRET_KEY = os.environ.get("SECRET_KEY")
    JWT_SECRET_KEY = os.environ.get("JWT_SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = database_url(os.environ.get("DATABASE_URL"))
    REDIS_URL = os.environ.get("REDIS_URL") or None
    # "0" skips the certificate check of a rediss:// URL (Heroku Redis signs its own).
    REDIS_TLS_VERIFY = os.environ.get("REDIS_TLS_VERIFY", "1") != "0"
    FRONTEND_URL = os.environ.get("FRONTEND_URL", "")
    N8N_WEBHOOK_SECRET = os.environ.get("N8N_WEBHOOK_SECRET", "")
    N8N_OUTBOUND_URL = os.environ.get("N8N_OUTBOUND_URL", "")
    OUTBOUND_MAX_ATTEMPTS = _int("OUTBOUND_MAX_ATTEMPTS", 8)
    OUTBOUND_BACKOFF_SECONDS = _float("OUTBOUND_BACKOFF_SECONDS", 2)
    OUTBOUND_TIMEOUT_SECONDS = _float("OUTBOUND_TIMEOUT_SECONDS", 10)
    # "0" when a separate `flask outbox run` process sends the replies instead.
    OUTBOUND_IN_WEB = os.environ.get("OUTBOUND_IN_WEB", "1") != "0"
    WEBHOOK_REQUIRE_SIGNATURE = os.environ.get("WEBHOOK_REQUIRE_SIGNATURE") == "1"
    # The WhatsApp Cloud API without n8n (docs/whatsapp.md).
    WHATSAPP_VERIFY_TOKEN = os.environ.get("WHATSAPP_VERIFY_TOKEN", "")
    WHATSAPP_APP_SECRET = os.environ.get("WHATSAPP_APP_SECRET", "")
    WHATSAPP_ACCESS_TOKEN = os.environ.get("WHATSAPP_ACCESS_TOKEN", "")
    WHATSAPP_GRAPH_URL = (
        os.environ.get("WHATSAPP_GRAPH_URL") or "https://graph.facebook.com"
    ).rstrip("/")
    WHATSAPP_GRAPH_VERSION = os.environ.get("WHATSAPP_GRAPH_VERSION") or "v25.0"
    # Approved message templates the panel offers: a JSON list of {name, language, text?}.
    WHATSAPP_TEMPLATES = os.environ.get("WHATSAPP_TEMPLATES", "")
    # "n8n" hands replies to N8N_OUTBOUND_URL; "whatsapp" sends them to the Graph API.
    OUTBOUND_TRANSPORT = (os.environ.get("OUTBOUND_TRANSPORT") or "n8n").strip().lower()
    # "0": free-form replies after WhatsApp's 24-hour window are not refused here
    # (windowExpiresAt is still shown), e.g. when n8n sends them on another channel.
    REPLY_WINDOW_ENFORCED = os.environ.get("REPLY_WINDOW_ENFORCED", "1") != "0"
    PORT = _int("PORT", 5000)
    # How many proxies in front add X-Forwarded-* (1 behind nginx or Heroku's router).
    TRUSTED_PROXY_HOPS = _int("TRUSTED_PROXY_HOPS", 0)
    # Unset: GET /metrics answers anyone; set: only `Authorization: Bearer <METRICS_TOKEN>`.
    METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
    LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
    # "json": one JSON object a line, with the request's id (app/request_logging.py).
    LOG_FORMAT = os.environ.get("LOG_FORMAT") or "text"
    ACCESS_LOG_LEVEL = os.environ.get("ACCESS_LOG_LEVEL", "WARNING")

    JWT_ACCESS_TOKEN_EXPIRES = timedelta(minutes=_float("JWT_ACCESS_TOKEN_MINUTES", 15))
    JWT_REFRESH_TOKEN_EXPIRES = timedelta(days=_float("JWT_REFRESH_TOKEN_DAYS", 30))
    # The panel keeps its refresh token in an HttpOnly cookie that only the refresh
    # path gets, out of reach of page scripts; a refresh with it must also send the
    # csrf_refresh_token cookie's value in X-CSRF-TOKEN (double submit, in
    # flask-jwt-extended). API clients keep sending the refresh token as a Bearer.
    JWT_TOKEN_LOCATION = ["headers"]  # the refresh endpoint alone also reads the cookie
    JWT_REFRESH_COOKIE_PATH = "/api/auth/refresh"
    JWT_COOKIE_SAMESITE = "Strict"
    # "0" for a panel served over plain http other than localhost (browsers drop a
    # Secure cookie there, and the panel would have to log in again every 15 minutes).
    JWT_COOKIE_SECURE = os.environ.get("REFRESH_COOKIE_SECURE", "1") != "0"
    MAX_CONTENT_LENGTH = 64 * 1024
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}

    SOCKETIO_ASYNC_MODE = None  # auto: gevent when served, as wsgi.py patches it
    TYPING_TIMEOUT_SECONDS = _float("TYPING_TIMEOUT_SECONDS", 6)
    # With Redis: how long the sockets of a killed process still count as online.
    PRESENCE_TTL_SECONDS = _float("PRESENCE_TTL_SECONDS", 60)
    EVENT_REPLAY_LIMIT = 1000
    # A replay also re-sends what committed this long before the client's lastEventId:
    # a publish that far behind its commit is not one the message queue delivered late
    # but one it failed (docs/deploy.md, "The replay margin").
    EVENT_REPLAY_MARGIN_SECONDS = _float("EVENT_REPLAY_MARGIN_SECONDS", 2)
    # `flask events prune` without --older-than: how long events stay replayable.
    EVENT_RETENTION_DAYS = _float("EVENT_RETENTION_DAYS", 30)
    LOGIN_FAILURES_PER_ACCOUNT = 10
    LOGIN_FAILURES_PER_ADDRESS = 50
    # Requests with a bearer token, per user (limits' notation, e.g. "20/second;600/minute").
    REST_RATE_LIMIT = os.environ.get("REST_RATE_LIMIT") or "1200 per minute"
    SOCKET_EVENTS_PER_SECOND = 10
    MAX_SOCKETS_PER_USER = 20
    # Calls (docs/calls.md): an unanswered call ends after this long.
    CALL_RING_TIMEOUT_SECONDS = _float("CALL_RING_TIMEOUT_SECONDS", 30)
    # STUN/TURN for the panel's calls: comma-separated URLs, the coturn static-auth-secret,
    # and how long the TURN credentials handed out stay good.
    TURN_URLS = os.environ.get("TURN_URLS", "")
    TURN_SECRET = os.environ.get("TURN_SECRET", "")
    # coturn checks the expiry on each refresh of an allocation too, so a call relayed
    # through TURN lasts at most this long after its credential was handed out.
    TURN_TTL_SECONDS = _int("TURN_TTL_SECONDS", 86400)
    # Live sockets whose token expired or was revoked are cut this often (0: never).
    TOKEN_SWEEP_SECONDS = _float("TOKEN_SWEEP_SECONDS", 1)
    # Snoozed conversations whose time has come are reopened this often (0: never).
    SNOOZE_SWEEP_SECONDS = _float("SNOOZE_SWEEP_SECONDS", 5)
    # A socket that does not read: cut past this many bytes queued for it, or
    # when one websocket write stays blocked this long.
    SOCKET_MAX_BACKLOG_BYTES = _int("SOCKET_MAX_BACKLOG_BYTES", 4 * 1024 * 1024)
    SOCKET_SEND_TIMEOUT_SECONDS = _float("SOCKET_SEND_TIMEOUT_SECONDS", 30)
    # "0": serve on the libraries' public paths only; "1": the whole fast path; a
    # comma-separated list of its parts: those only (app/transport/__init__.py).
    FAST_TRANSPORT = os.environ.get("FAST_TRANSPORT") or "1"
    # A request's line and headers must arrive within this; stalled ones are closed.
    HEADER_TIMEOUT_SECONDS = _float("HEADER_TIMEOUT_SECONDS", 10)
    # Worker connections that websockets and requests still sending headers never take.
    HTTP_RESERVE_CONNECTIONS = _int("HTTP_RESERVE_CONNECTIONS", 100)
    # Media (docs/media.md): S3-compatible storage when MEDIA_S3_BUCKET is set,
    # otherwise files under instance/media (MEDIA_ROOT).
    MEDIA_ROOT = os.environ.get("MEDIA_ROOT") or str(INSTANCE_DIR / "media")
    MEDIA_S3_BUCKET = os.environ.get("MEDIA_S3_BUCKET", "")
    MEDIA_S3_ENDPOINT_URL = os.environ.get("MEDIA_S3_ENDPOINT_URL") or None
    MEDIA_S3_REGION = os.environ.get("MEDIA_S3_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    MEDIA_S3_PREFIX = os.environ.get("MEDIA_S3_PREFIX", "media/")
    # How long the credential inside media.url lives (n8n fetches outgoing files with it).
    MEDIA_URL_SECONDS = _int("MEDIA_URL_SECONDS", 3600)
    # Where n8n reaches this server: the base of an outgoing file's media_url.
    PUBLIC_URL = os.environ.get("PUBLIC_URL") or f"http://127.0.0.1:{_int('PORT', 5000)}"
    # Media downloads from the webhook: "1" lets them reach private and loopback addresses.
    MEDIA_FETCH_ALLOW_PRIVATE = os.environ.get("MEDIA_FETCH_ALLOW_PRIVATE") == "1"
    MEDIA_FETCH_TIMEOUT_SECONDS = _float("MEDIA_FETCH_TIMEOUT_SECONDS", 20)
    # An agent's upload not finished within this is deleted.
    MEDIA_UPLOAD_TTL_SECONDS = _int("MEDIA_UPLOAD_TTL_SECONDS", 3600)
    # Where uploads in progress are kept (local to the process's host).
    MEDIA_UPLOAD_DIR = os.environ.get("MEDIA_UPLOAD_DIR") or str(INSTANCE_DIR / "uploads")
    # How often the housekeeping loop looks for such uploads (0: never).
    MEDIA_UPLOAD_SWEEP_SECONDS = _float("MEDIA_UPLOAD_SWEEP_SECONDS", 60)


class TestingConfig(Config):
    """In-memory database and thread-based Socket.IO for the test clients."""

    TESTING = True
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    SECRET_KEY = "test-secret-key-that-is-long-enough-for-hs256"
    JWT_SECRET_KEY = "test-jwt-secret-key-that-is-long-enough-for-hs256"
    N8N_WEBHOOK_SECRET = "test-webhook-secret"
    REDIS_URL = None
    SOCKETIO_ASYNC_MODE = "threading"
    # The in-memory database has one connection; a sweeping thread would share
    # it with the test. Tests call token_sweep.sweep() themselves.
    TOKEN_SWEEP_SECONDS = 0
    MEDIA_UPLOAD_SWEEP_SECONDS = 0
    SNOOZE_SWEEP_SECONDS = 0


configs = {"default": Config, "testing": TestingConfig}
