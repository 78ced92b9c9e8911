"""Page routes of the panel and the npm-installed socket.io-client it loads."""

from pathlib import Path

from flask import abort, redirect, render_template, request, send_from_directory, url_for

from app.panel import bp
from app.panel.next_page import safe_next_page

# socket.io-client comes from npm (package-lock.json pins it) and is served from
# node_modules so the panel never depends on a CDN.
SOCKET_IO_CLIENT_DIR = (
    Path(__file__).resolve().parents[2] / "node_modules" / "socket.io-client" / "dist"
)
SOCKET_IO_CLIENT_FILES = {"socket.io.min.js", "socket.io.min.js.map"}
# Chart.js draws the admin page's reports; from npm too (package-lock.json pins it).
CHART_JS_DIR = Path(__file__).resolve().parents[2] / "node_modules" / "chart.js" / "dist"
CHART_JS_FILES = {"chart.umd.min.js", "chart.umd.min.js.map"}

# Message content is rendered with textContent; this policy is the second line of
# defence should a future change put data into HTML: no inline or foreign scripts.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'"
)


@bp.after_request
def add_security_headers(response):
    """Send the panel's pages with a strict content security policy."""
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


@bp.get("/")
def index():
    """Send visitors to the login page; it forwards a signed-in user onwards."""
    return redirect(url_for("panel.login"))


@bp.get("/login")
def login():
    """The login form; `next` (a panel page only) is where it goes afterwards."""
    return render_template("panel/login.html", next_page=safe_next_page(request.args.get("next")))


@bp.get("/client")
def client():
    """The agent panel: conversation list, open conversation and reply box."""
    return render_template("panel/client.html")


@bp.get("/admin")
def admin():
    """The admin view: every conversation, the agents' presence, connected users."""
    return render_template("panel/admin.html")


@bp.get("/panel/vendor/<name>")
def socket_io_client(name: str):
    """Serve socket.io-client's browser build from node_modules (npm ci installs it)."""
    if name not in SOCKET_IO_CLIENT_FILES:
        abort(404)
    return send_from_directory(SOCKET_IO_CLIENT_DIR, name, max_age=3600)


@bp.get("/panel/vendor/chart/<name>")
def chart_js(name: str):
    """Serve Chart.js's browser build from node_modules, for the admin page's reports."""
    if name not in CHART_JS_FILES:
        abort(404)
    return send_from_directory(CHART_JS_DIR, name, max_age=3600)
