"""The browser panel: login page, agent panel and admin view, served by the app itself."""

from flask import Blueprint

bp = Blueprint(
    "panel",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/panel/static",
)

from app.panel import routes  # noqa: E402,F401  (routes attach themselves to bp)
