"""One emulator per test session in this folder, plus OpenAPI validation of every response checked."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

import jsonschema
import pytest
import requests
from openapi_core import OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIResponse
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict

from sandbox.dotdigital.launcher import start_dotdigital

# The repository sits beside ../shared/ (as in CI's clone), which holds Dotdigital's published documents.
SPEC_DIR = Path(__file__).resolve().parents[4] / "shared" / "api-specs" / "dotdigital"
# Published per-area documents first; the NSwag document of the live v2 service (OpenAPI 3.0) last.
SPEC_FILES = [
    "dotdigital-contacts-service.json", "accounts-and-utilities.yaml",
    "Dotdigital-dotdigital-contact-data-fields-2.0.0-resolved-1.yaml",
    "Dotdigital-dotdigital-lists-address-books-2.0.0-resolved.yaml",
    "Dotdigital-dotdigital-email-contacts-2.0.0-resolved.yaml",
    "Dotdigital-dotdigital-preferences-and-subscriptions-2.0.0-resolved.yaml",
    "email-campaigns.yaml", "programs.yaml", "dotdigital-v2-api-swagger.json",
]
V2_ERROR_SCHEMA = {"type": "object", "required": ["message"], "properties": {"message": {"type": "string"}}}


@cache
def spec(name: str) -> OpenAPI:
    return OpenAPI.from_file_path(str(SPEC_DIR / name))


@cache
def v3_error_schema() -> dict:
    doc = json.loads((SPEC_DIR / "dotdigital-contacts-service.json").read_text())
    schemas = doc["components"]["schemas"]
    schema = dict(schemas["errorResponse"])
    schema["properties"] = dict(schema["properties"], details={"type": "array",
                                                              "items": schemas["errorResponse_details"]})
    return schema


class SpecRequest:
    """The emulator's request as the spec sees it: same path and query, on the documented server."""

    def __init__(self, response: requests.Response):
        prepared = response.request
        from urllib.parse import parse_qs, urlparse

        parsed = urlparse(prepared.url)
        self.host_url = "https://r1-api.dotdigital.com"
        self.path = parsed.path
        self.method = prepared.method.lower()
        self.parameters = RequestParameters(query=ImmutableMultiDict(parse_qs(parsed.query)),
                                            header=Headers(dict(prepared.headers)), cookie=ImmutableMultiDict({}))
        body = prepared.body
        self.body = body.encode() if isinstance(body, str) else body
        self.content_type = prepared.headers.get("Content-Type", "application/json")
        self.full_url_pattern = self.host_url + self.path


@cache
def _templates(name: str) -> list[tuple[re.Pattern, str, set]]:
    import yaml

    text = (SPEC_DIR / name).read_text()
    raw = (json.loads(text) if name.endswith(".json") else yaml.safe_load(text))["paths"]
    out = []
    for template, item in raw.items():
        pattern = re.compile("^" + re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(template)) + "$")
        out.append((pattern, template, {m for m in item if m in ("get", "post", "put", "patch", "delete")}))
    return out


def _operation_docs(method: str, path: str) -> list[str]:
    """Documents with this operation, the most literal path match first (fewest {params}), then file order."""
    found = []
    for order, name in enumerate(SPEC_FILES):
        for pattern, template, methods in _templates(name):
            if method in methods and pattern.match(path):
                found.append((template.count("{"), order, name))
    return [name for _params, _order, name in sorted(found)]


def check_response(response: requests.Response, docs: list[str] | None = None) -> str:
    """Validate status + body against the matching operation; returns the document that matched.

    Errors whose status the operation does not document are held to the generation's error envelope
    (v2 ``{"message"}``, v3 ``errorResponse`` from the contacts service document) with jsonschema.
    """
    from openapi_core.templating.responses.exceptions import ResponseNotFound

    request = SpecRequest(response)
    candidates = docs or _operation_docs(request.method, request.path)
    assert candidates, f"no OpenAPI document has {request.method.upper()} {request.path}"
    name = candidates[0]
    try:
        spec(name).validate_response(request, RequestsOpenAPIResponse(response))
    except ResponseNotFound:
        assert response.status_code >= 400, f"{response.status_code} not documented for {request.path} in {name}"
        schema = v3_error_schema() if request.path.startswith("/contacts/v3") else V2_ERROR_SCHEMA
        jsonschema.validate(response.json(), schema)
    return name


@pytest.fixture(scope="session")
def dd(tmp_path_factory):
    emulator = start_dotdigital(tmp_path_factory.mktemp("dotdigital"), seed=7, import_delay=0.2)
    yield emulator
    emulator.stop()


@pytest.fixture(scope="session")
def api(dd):
    session = requests.Session()
    conn = dd.connections["dotdigital_default"]
    session.auth = (conn["login"], conn["password"])
    session.base = dd.base_url

    def call(method: str, path: str, **kwargs) -> requests.Response:
        return session.request(method, dd.base_url + path, timeout=60, **kwargs)

    return call


@pytest.fixture(scope="session")
def check():
    return check_response
