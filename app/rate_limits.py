"""HTTP rate limits, through Flask-Limiter: failed logins and the authenticated REST API.

- Failed logins (the contract): LOGIN_FAILURES_PER_ACCOUNT (10) for one account
  and LOGIN_FAILURES_PER_ADDRESS (50) from one address within a minute. Only a
  401 counts (deduct_when), so successful logins never do; once a limit is
  reached every attempt gets 429 until the minute that began with the first
  failure is over (the fixed window starts at its first hit).
- The REST API: REST_RATE_LIMIT per user for every /api request that carries a
  bearer token, keyed by the token's subject (an invalid token: by address).
- Webhooks are not limited: they are authenticated by their secret or
  signature, n8n and Meta answer a 429 by retrying (more load, not less), and
  ingest must reach thousands a second. A proxy in front (nginx's limit_req)
  is the place to cap an abusive source; see docs/rate-limits.md.

State lives in Redis when REDIS_URL is set (shared by every process, through
the app's fail-fast connection pool) and in this process's memory otherwise.
While Redis is unreachable the limits hold per process (Flask-Limiter's
in-memory fallback) and return to Redis once it answers again.
"""

import logging
import time

from flask import Flask, current_app, request
from flask_jwt_extended import decode_token
from flask_jwt_extended.exceptions import JWTExtendedException
from flask_limiter import ApplicationLimit, Limiter, RateLimitExceeded
from jwt import PyJWTError

from app.errors import error_response
from app.metrics import RATE_LIMITED
from app.services.users import normalize_email

log = logging.getLogger(__name__)

API_BLUEPRINT = "api"
LOGIN_PATH = "/api/auth/login"
LOGIN_WINDOW = "minute"


def _client_address() -> str:
    return "address:" + (request.remote_addr or "unknown")


def _login_account() -> str:
    """The account a login attempt names, spelled as stored."""
    body = request.get_json(silent=True)
    email = body.get("email") if isinstance(body, dict) else None
    return "account:" + (normalize_email(email) if isinstance(email, str) else "")


def _rest_caller() -> str:
    """The user behind the request's valid bearer token, else its address."""
    token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    try:
        return "user:" + str(decode_token(token)["sub"])
    except (PyJWTError, JWTExtendedException, KeyError):
        return _client_address()


def _not_a_login() -> bool:
    return request.path != LOGIN_PATH


def _without_bearer() -> bool:
    """The REST limit counts the API's requests that carry a token."""
    return "Authorization" not in request.headers


# Flask's per-request hooks, which Flask-Limiter registers for every request.
_HOOKS = ("before_request_funcs", "after_request_funcs", "teardown_request_funcs")


def _init_for_api_only(limiter: Limiter, app: Flask) -> None:
    """limiter.init_app(app), its hooks then moved to the API blueprint's requests.

    Flask-Limiter runs them for every request; webhooks (the ingest hot path),
    the panel, /health and /metrics have no limit, and the hooks cost a webhook
    about 2 % of its Python bytecodes. Flask keeps hooks per blueprint in these
    public dicts; the ones Flask-Limiter added are found by comparing them
    before and after, not by name. Every /api route outside the webhooks is in
    the API blueprint (tests/test_rate_limits.py checks it).
    """
    existing = {name: list(getattr(app, name)[None]) for name in _HOOKS}
    limiter.init_app(app)
    for name in _HOOKS:
        hooks = getattr(app, name)
        added = [hook for hook in hooks[None] if hook not in existing[name]]
        hooks[None][:] = existing[name]
        hooks[API_BLUEPRINT].extend(added)


def _failed_login(response) -> bool:
    return response.status_code == 401


def _limits(config) -> list[ApplicationLimit]:
    """Every HTTP limit; each one's own exempt_when says which requests it counts."""
    too_many = "Too many failed logins, try again in a minute"
    login = {"exempt_when": _not_a_login, "deduct_when": _failed_login, "error_message": too_many}
    return [
        ApplicationLimit(
            f"{config['LOGIN_FAILURES_PER_ACCOUNT']} per {LOGIN_WINDOW}",
            key_function=_login_account,
            scope="login-account",
            **login,
        ),
        ApplicationLimit(
            f"{config['LOGIN_FAILURES_PER_ADDRESS']} per {LOGIN_WINDOW}",
            key_function=_client_address,
            scope="login-address",
            **login,
        ),
        ApplicationLimit(
            config["REST_RATE_LIMIT"],
            key_function=_rest_caller,
            scope="rest",
            exempt_when=_without_bearer,
            error_message="Too many requests, slow down",
        ),
    ]


def _storage(app: Flask) -> tuple[str, dict]:
    """Redis through the app's fail-fast pool when REDIS_URL is set, else memory."""
    client = app.extensions["inbox_state"].redis
    if client is None:
        return "memory://", {}
    return app.config["REDIS_URL"], {"connection_pool": client.connection_pool}


def init_rate_limits(app: Flask) -> Limiter:
    """A Limiter of this app's own (its storage and limits follow this app's config).

    Not one module-level extension object: tests and tools build several apps in
    one process, and a Limiter keeps the storage of the last app it was given.
    """
    uri, options = _storage(app)
    limiter = Limiter(
        key_func=_client_address,
        application_limits=_limits(app.config),
        storage_uri=uri,
        storage_options=options,
        strategy="fixed-window",
        key_prefix="inbox",
        in_memory_fallback_enabled=True,
        # A storage error after the fallback was chosen is logged, never a 500.
        swallow_errors=True,
    )
    _init_for_api_only(limiter, app)
    app.extensions["rate_limits"] = limiter
    app.register_error_handler(RateLimitExceeded, _refused)
    return limiter


def _refused(exc: RateLimitExceeded):
    """The contract's 429 error body, with Retry-After when the storage can tell."""
    RATE_LIMITED.labels("login" if request.path == LOGIN_PATH else "rest").inc()
    response, status = error_response(429, "rate_limited", exc.description)
    limit = current_app.extensions["rate_limits"].current_limit
    try:
        response.headers["Retry-After"] = str(max(1, int(limit.reset_at - time.time())))
    except Exception:  # whatever the storage raised: answer without the header
        log.info("no Retry-After for a 429: the limit storage did not answer")
    return response, status
