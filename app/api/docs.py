"""The interface's own documents: GET /api/openapi.json (and the AsyncAPI and docs page)."""

from flask import current_app, jsonify

from app.api import bp
from app.schemas import openapi
from app.schemas.http import operation


@bp.get("/openapi.json")
@operation(responses={200: dict}, common_errors=False)
def openapi_document():
    """This document: the REST API and the n8n webhooks, generated from their models."""
    return jsonify(openapi.document(current_app._get_current_object()))
