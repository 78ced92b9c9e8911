"""The OpenAPI document is true: same paths as the app, and schemathesis finds no 5xx or drift.

schemathesis runs in-process against the WSGI app (no network) with a seeded
admin: every operation gets generated valid and invalid requests; each
response must be documented, match its schema, and never be a 5xx.
"""

import re
from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openapi_spec_validator import validate as validate_openapi
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from app.extensions import db
from app.schemas import common
from app.services import auth as auth_service
from app.services.users import create_user
from app.webhooks.verification import SECRET_HEADER
from tests.conftest import PASSWORD, WEBHOOK_SECRET, webhook_body
from tests.module_app import fresh_app
from tests.reliability_figures import record

METHODS = {"get", "post", "put", "patch", "delete"}
# Served without credentials or a database: no 401 or 503 to document.
# Meta's verification handshake: answered from configuration alone.
PUBLIC_OPERATIONS = {("get", "/api/webhooks/whatsapp")}
PUBLIC_DOCUMENTS = (
    "/health",
    "/api/openapi.json",
    "/api/asyncapi.json",
    "/api/docs",
    "/api/docs/assets/{name}",
)
EXAMPLES_PER_OPERATION = 30
CURSOR_STATUSES = ["2xx", "400", "401", "403", "404", "429"]
# Strings where Python's and JSON Schema's ideas of whitespace and digits part ways.
TRICKY = ["\x1c", "\x85", "\ufeff", "\u200b", "\u3000", "a\x00", "\x00", "²", "٣", "1\n", "07", "0"]


def documented_paths(app) -> set[tuple[str, str]]:
    """(method, path) of every REST and webhook route, written the OpenAPI way."""
    found = set()
    for rule in app.url_map.iter_rules():
        if not (rule.rule.startswith("/api/") or rule.rule in ("/health", "/metrics")):
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
        found.update((method.lower(), path) for method in rule.methods - {"HEAD", "OPTIONS"})
    return found


def test_served_document_lists_exactly_the_apps_routes(client):
    spec = client.get("/api/openapi.json").get_json()
    in_spec = {
        (method, path)
        for path, item in spec["paths"].items()
        for method in item
        if method in METHODS
    }
    app_routes = documented_paths(client.application)
    assert in_spec - app_routes == set(), "documented but not served"
    assert app_routes - in_spec == set(), "served but not documented"


def test_served_document_is_valid_openapi(app, client):
    validate_openapi(client.get("/api/openapi.json").get_json())
    schemathesis.openapi.from_wsgi("/api/openapi.json", app).validate()


def test_every_operation_has_a_summary_and_every_body_an_example(client):
    spec = client.get("/api/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            assert operation["summary"], (method, path)
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body:
                model = schemas[body["schema"]["$ref"].rsplit("/", 1)[1]]
                assert model["description"] and model["examples"], (method, path)


def test_every_operation_documents_its_errors_with_the_error_body(client):
    spec = client.get("/api/openapi.json").get_json()
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method not in METHODS or path in PUBLIC_DOCUMENTS:
                continue
            if (method, path) in PUBLIC_OPERATIONS:
                continue
            for status in ("401", "503"):
                body = operation["responses"][status]["content"]["application/json"]["schema"]
                assert body == {"$ref": "#/components/schemas/ErrorBody"}, (method, path, status)


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=6) | st.sampled_from(TRICKY))
def test_non_blank_pattern_is_what_the_server_accepts(value):
    class Body(BaseModel):
        text: common.Text(255, strip=True)

    try:
        Body.model_validate({"text": value})
        server_accepts = True
    except PydanticValidationError:
        server_accepts = False
    assert bool(re.search(common.NON_BLANK, value)) == server_accepts


@given(
    st.from_regex(r"\A\s{0,2}[0-9]{1,12}\s{0,2}\Z")
    | st.integers(-1, 2**32).map(str)
    | st.sampled_from(TRICKY)
)
def test_user_id_pattern_is_what_the_webhook_accepts(value):
    class Body(BaseModel):
        user_id: common.UserIdInput

    try:
        Body.model_validate({"user_id": value})
        server_accepts = True
    except PydanticValidationError:
        server_accepts = False
    assert bool(re.search(common.USER_ID_DIGITS, value)) == server_accepts


@pytest.fixture(scope="module")
def seeded():
    """An app with an admin, an agent, and a few messages, for the whole module."""
    with fresh_app() as app:
        admin = create_user("schema-admin@example.com", PASSWORD, "ADMIN")
        agent = create_user("schema-agent@example.com", PASSWORD, "USER")
        client = app.test_client()
        for n in range(3):
            body = webhook_body(agent, message_id=f"wamid.schema-{n}")
            client.post(
                "/api/webhooks/n8n/message", json=body, headers={SECRET_HEADER: WEBHOOK_SECRET}
            )
        app.seed = {"admin": admin, "agent": agent}
        yield app


class FreshCredentials:
    """What a real caller of each operation sends, fresh every time (logout revokes tokens).

    Registered as the schema's auth provider, so schemathesis leaves it out of
    the cases where it deliberately drops the credentials.
    """

    def get(self, case, context) -> dict:
        security = case.operation.definition.raw.get("security", [])
        schemes = {name for requirement in security for name in requirement}
        app = context.app
        with app.app_context():
            tokens = auth_service.issue_tokens(db.session.merge(app.seed["admin"]))
        if "bearerAuth" in schemes:
            return {"Authorization": f"Bearer {tokens['accessToken']}"}
        if "refreshToken" in schemes:
            return {"Authorization": f"Bearer {tokens['refreshToken']}"}
        if "webhookSecret" in schemes:
            return {SECRET_HEADER: WEBHOOK_SECRET}
        return {}

    def set(self, case, data: dict, context) -> None:
        case.headers = {**(case.headers or {}), **data}


@pytest.fixture(scope="module")
def api_schema(seeded):
    config = schemathesis.Config.from_dict(
        {
            # Unknown query parameters are ignored, as HTTP APIs customarily do: not generated.
            "generation": {"allow-extra-parameters": False},
            # Schemathesis's own list of rejections, plus 413: an invalid body it happens
            # to make larger than 64 KiB is refused for its size first (the contract's 413).
            "checks": {
                "negative_data_rejection": {
                    "expected-statuses": [
                        *("400", "401", "403", "404", "405", "406", "409", "413"),
                        *("415", "422", "428", "429", "5xx"),
                    ]
                }
            },
            "operations": [
                {
                    # A well-formed cursor (`since`, `before`) that names no message of the
                    # caller's is a 400 naming the field: it cannot be told apart by schema.
                    "include-path": [
                        "/api/messages",
                        "/api/conversations/{conversation_id}/messages",
                    ],
                    "include-method": "GET",
                    "checks": {"positive_data_acceptance": {"expected-statuses": CURSOR_STATUSES}},
                },
                {
                    # Generated credentials are wrong ones (401), and after 10 of them for
                    # an account or 50 from this address within a minute the login limit
                    # answers 429 whatever comes (the contract's limit).
                    "include-name": "POST /api/auth/login",
                    "checks": {
                        "positive_data_acceptance": {"expected-statuses": ["2xx", "401", "429"]}
                    },
                },
                {
                    # The multipart form's `payload` is JSON text (IncomingMessage), which
                    # a form field's schema cannot describe: a generated one is refused.
                    "include-name": "POST /api/webhooks/n8n/message",
                    "checks": {
                        "positive_data_acceptance": {
                            "expected-statuses": ["2xx", "400", "401", "404", "413", "502"]
                        }
                    },
                },
                {
                    # snoozedUntil must lie in the future, and goes with status "snoozed":
                    # a time relative to now is not a JSON Schema rule, so a 400 naming it is
                    # an answer to a well-formed body too.
                    "include-name": "PATCH /api/conversations/{conversation_id}",
                    "checks": {
                        "positive_data_acceptance": {"expected-statuses": [*CURSOR_STATUSES, "409"]}
                    },
                },
            ],
        }
    )
    loaded = schemathesis.openapi.from_wsgi("/api/openapi.json", seeded, config=config)
    loaded.auth(refresh_interval=None)(FreshCredentials)
    return loaded


@pytest.fixture(scope="module")
def statuses():
    """Every status schemathesis saw, recorded for docs/reliability.md at the end."""
    seen: Counter = Counter()
    yield seen
    if seen:
        total = sum(seen.values())
        errors = sum(n for status, n in seen.items() if status >= 500)
        refused = sum(n for status, n in seen.items() if 400 <= status < 500)
        record(
            "schemathesis: every REST and webhook operation",
            inputs=total,
            refused=refused,
            accepted=total - refused - errors,
            server_errors=errors,
        )


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_document(case, seeded, statuses):
    response = case.call_and_validate()
    statuses[response.status_code] += 1
