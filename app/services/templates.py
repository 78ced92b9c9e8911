"""Message templates: the approved ones the panel offers, and a template reply's stored text.

The list is configuration (WHATSAPP_TEMPLATES, a JSON list of `{name,
language, text?}`), copied from the templates approved in Meta's WhatsApp
Manager: the inbox cannot create or approve templates, and any name the
business has approved may be sent even when it is not listed.
"""

import json
import logging
import re

from flask import current_app

from app.schemas.templates import TemplateOption, TemplateReply

log = logging.getLogger(__name__)
_PLACEHOLDER = re.compile(r"\{\{(\d+)\}\}")


def configured() -> list[TemplateOption]:
    """The templates of WHATSAPP_TEMPLATES; an unreadable setting lists none (and is logged)."""
    raw = current_app.config["WHATSAPP_TEMPLATES"]
    if not raw:
        return []
    try:
        return [TemplateOption.model_validate(item) for item in json.loads(raw)]
    except (ValueError, TypeError):
        log.error("WHATSAPP_TEMPLATES is not a JSON list of {name, language, text?}")
        return []


def _body_parameters(template: TemplateReply) -> list[str]:
    for component in template.components or []:
        if str(component.get("type", "")).lower() == "body":
            return [str(p.get("text", "")) for p in component.get("parameters", []) or []]
    return []


def _filled(text: str, parameters: list[str]) -> str:
    """The body with {{n}} replaced by the n-th parameter (missing ones stay as written)."""

    def fill(match: re.Match) -> str:
        index = int(match.group(1)) - 1
        return parameters[index] if 0 <= index < len(parameters) else match.group(0)

    return _PLACEHOLDER.sub(fill, text)


def text_of(template: TemplateReply) -> str:
    """What the conversation shows for a template reply: its body with the parameters filled."""
    for option in configured():
        if (option.name, option.language) == (template.name, template.language) and option.text:
            return _filled(option.text, _body_parameters(template))
    return f"[{template.name} ({template.language})]"


def as_json(template: TemplateReply) -> str:
    """The template as stored with the reply, exactly as the Graph API receives it."""
    found = {"name": template.name, "language": {"code": template.language}}
    if template.components:
        found["components"] = template.components
    return json.dumps(found, ensure_ascii=False)
