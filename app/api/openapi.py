"""GET /api/openapi.json: the OpenAPI document of the REST API and the webhooks."""

from flask import jsonify

from app.api import bp
from app.api.openapi_spec import SPEC


@bp.get("/openapi.json")
def openapi_document():
    """The document in app/api/openapi_spec.py; public, like the API's own shape."""
    return jsonify(SPEC)
