"""The application factory."""

from flask import Flask

from app.extensions import db, jwt, migrate, socketio
from app.json_provider import StrictJSONProvider
from app.observability import RequestObservation
from app.request_logging import configure_logging
from app.sessions import SessionCookies
from config import make_private_dir


def create_app(config_name: str | dict | None = None) -> Flask:
    """Build the app: configuration, extensions, blueprints, errors, commands."""
    app = Flask(__name__, instance_relative_config=True)
    app.json = StrictJSONProvider(app)
    app.session_interface = SessionCookies()
    make_private_dir(app.instance_path)
    load_config(app, config_name)
    register_observability(app)
    register_extensions(app)
    trust_proxies(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    configure_logging(app)
    start_background_senders(app)
    return app


def trust_proxies(app: Flask) -> None:
    """Behind TRUSTED_PROXY_HOPS proxies (nginx, Heroku's router), read the client's
    address, scheme and host from their X-Forwarded-* headers.

    Otherwise every request seems to come from the proxy, and the per-address
    login limit would lock out everyone at once. Wraps Socket.IO's middleware
    too, so handshakes see the same client.
    """
    hops = app.config["TRUSTED_PROXY_HOPS"]
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)


def register_observability(app: Flask) -> None:
    """Request ids and the webhook timer (WSGI middleware, inside Socket.IO's), /metrics."""
    from app.metrics.endpoint import init_metrics

    app.wsgi_app = RequestObservation(app.wsgi_app)
    init_metrics(app)


def load_config(app: Flask, config_name: str | dict | None) -> None:
    """A named config class from config.py, optionally overridden by a dict."""
    from config import configs, fill_instance_secrets

    overrides = config_name if isinstance(config_name, dict) else {}
    name = config_name if isinstance(config_name, str) else overrides.pop("CONFIG", "default")
    app.config.from_object(configs[name])
    app.config.update(overrides)
    fill_instance_secrets(app.config)


def allowed_origin(app: Flask):
    """The CORS rule for sockets: same origin always, plus FRONTEND_URL's origins.

    A callable keeps Engine.IO's same-origin check, which a list would replace.
    "Same" is the request's own scheme and Host: X-Forwarded-* count only behind
    TRUSTED_PROXY_HOPS proxies, where ProxyFix (trust_proxies) has already put
    them there; otherwise any client could name its own origin as our host.
    """
    listed = {o.strip().rstrip("/") for o in app.config["FRONTEND_URL"].split(",") if o.strip()}

    def check(origin, environ) -> bool:
        if origin is None or origin.rstrip("/") in listed:
            return True
        return origin == f"{environ.get('wsgi.url_scheme', 'http')}://{environ.get('HTTP_HOST')}"

    return check


def register_extensions(app: Flask) -> None:
    from app import (
        security,  # noqa: F401  (registers the JWT callbacks)
        sqlite_tuning,
        transport,
    )
    from app.rate_limits import init_rate_limits
    from app.realtime import calls, handlers  # noqa: F401  (registers the socket handlers)
    from app.realtime.message_queue import manager_for
    from app.state import init_state

    sqlite_tuning.engine_options(app)
    db.init_app(app)
    # Batch mode lets later migrations alter SQLite tables.
    migrate.init_app(app, db, render_as_batch=True)
    jwt.init_app(app)
    socketio.init_app(
        app,
        async_mode=app.config["SOCKETIO_ASYNC_MODE"],
        # Given every time (None without REDIS_URL): SocketIO keeps its options
        # across init_app calls, so an app made after one with REDIS_URL would
        # otherwise inherit that app's Redis queue.
        client_manager=manager_for(app),
        cors_allowed_origins=allowed_origin(app),
        ping_interval=25,
        ping_timeout=60,
        max_http_buffer_size=app.config["MAX_CONTENT_LENGTH"],
        async_handlers=False,
    )
    # Handle one socket's events in the order they arrive (a typing true/false
    # pair must not swap); Engine.IO has its own switch for this.
    socketio.server.eio.async_handlers = False
    transport.install(app)
    init_state(app)
    init_rate_limits(app)
    sqlite_tuning.tune(app)


def register_blueprints(app: Flask) -> None:
    from app import api, health, panel, webhooks

    app.register_blueprint(api.bp)
    app.register_blueprint(webhooks.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(panel.bp)


def register_errorhandlers(app: Flask) -> None:
    from app.body_limit import refuse_oversized_chunked_body
    from app.errors import register_error_handlers
    from app.media.request_limits import allow_file_bodies

    register_error_handlers(app)
    app.before_request(allow_file_bodies)  # first: it sets the limit the next hook checks
    app.before_request(refuse_oversized_chunked_body)


def register_commands(app: Flask) -> None:
    from app.cli import events_cli, outbox_cli, users_cli
    from app.media.cli import media_cli
    from app.messages_cli import messages_cli
    from app.numbers_cli import numbers_cli

    app.cli.add_command(media_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(messages_cli)
    app.cli.add_command(outbox_cli)
    app.cli.add_command(events_cli)
    app.cli.add_command(numbers_cli)


def start_background_senders(app: Flask) -> None:
    """The reply sender runs inside the server only when gunicorn serves the app."""
    from app.outbound.sender import start_if_served

    start_if_served(app)
