"""The approved WhatsApp message templates the panel offers."""

from flask_jwt_extended import jwt_required

from app.api import bp
from app.schemas.http import BEARER, operation
from app.schemas.templates import TemplateOption
from app.services import templates


@bp.get("/templates")
@jwt_required()
@operation(responses={200: list[TemplateOption]}, errors=(401,), security=BEARER)
def list_templates():
    """Templates to send when the 24-hour window is closed (from WHATSAPP_TEMPLATES)."""
    return templates.configured()
