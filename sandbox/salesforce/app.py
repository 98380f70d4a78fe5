"""The FastAPI application: routing, bearer-token checks, API quota, limit headers, faults, stats."""

from __future__ import annotations

import asyncio
import re

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from sandbox.salesforce import admin_api, bulk_api, rest_api
from sandbox.salesforce.auth import OAuthError
from sandbox.salesforce.errors import ApiError
from sandbox.salesforce.org import Org

API_PREFIX = "/services/data/v"
_ID_SEGMENT = re.compile(r"^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$")
_VERSION_SEGMENT = re.compile(r"^v\d+\.\d+$")


class StripTrailingSlash:
    """``query/`` and ``query``, ``describe`` and ``describe/`` are the same resource to Salesforce."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            path = scope["path"]
            if len(path) > 1 and path.endswith("/") and path != "/services/data/":
                scope = dict(scope)
                scope["path"] = path.rstrip("/")
                scope["raw_path"] = scope["path"].encode()
        await self.app(scope, receive, send)


def endpoint_key(method: str, path: str) -> str:
    """``GET /services/data/vXX.X/query/{locator}``: ids and locators folded so counts group by endpoint."""
    parts = path.split("/")
    out = []
    for i, part in enumerate(parts):
        if _VERSION_SEGMENT.match(part):
            out.append("vXX.X")
        elif i > 1 and parts[i - 1] in ("query", "queryAll") and _VERSION_SEGMENT.match(parts[i - 2]) and part:
            out.append("{locator}")
        elif _ID_SEGMENT.match(part) and any(c.isdigit() for c in part):
            out.append("{id}")
        else:
            out.append(part)
    return f"{method} {'/'.join(out)}"


def _error(exc: ApiError, org: Org | None = None) -> JSONResponse:
    response = JSONResponse(exc.body(), status_code=exc.status)
    if org is not None:
        response.headers["Sforce-Limit-Info"] = org.quota.header()
    return response


def create_app(org: Org) -> FastAPI:
    app = FastAPI(title="Salesforce API emulator", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.org = org

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError):
        return _error(exc)

    @app.exception_handler(404)
    async def not_found(request: Request, exc):
        return _error(ApiError(404, "NOT_FOUND", "The requested resource does not exist"))

    @app.exception_handler(405)
    async def bad_method(request: Request, exc):
        return _error(ApiError(405, "METHOD_NOT_ALLOWED", f"HTTP Method '{request.method}' not allowed. "
                               "Allowed are GET,PATCH,POST,DELETE,HEAD"))

    from fastapi.exceptions import RequestValidationError

    @app.exception_handler(RequestValidationError)
    async def invalid_params(request: Request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        return _error(ApiError(400, "INVALID_INPUT", f"Invalid parameter: {first.get('loc')} {first.get('msg')}"))

    @app.middleware("http")
    async def salesforce_edge(request: Request, call_next):
        path = request.url.path
        if not path.startswith(API_PREFIX):
            return await call_next(request)
        method = request.method
        org.count_call(endpoint_key(method, path))
        slow = org.faults.fire("slow", path, method)
        if slow:
            await asyncio.sleep(slow["delay_seconds"])
        try:
            token = org.tokens.check(request.headers.get("authorization"))
        except ApiError as exc:
            return _error(exc)
        if org.faults.fire("expire_token", path, method):
            org.tokens.revoke(token)
            return _error(ApiError(401, "INVALID_SESSION_ID", "Session expired or invalid"))
        if not org.quota.take() or org.faults.fire("request_limit", path, method):
            return _error(ApiError(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."), org)
        failure = org.faults.fire("server_error", path, method)
        if failure:
            status = failure["status"]
            code = "SERVER_UNAVAILABLE" if status == 503 else "UNKNOWN_EXCEPTION"
            return _error(ApiError(status, code, "An unexpected error occurred. Please include this ErrorId if "
                                   "you contact support: 1234567890-12345 (-1234567890)"), org)
        response = await call_next(request)
        response.headers["Sforce-Limit-Info"] = org.quota.header()
        return response

    @app.get("/services/data/")
    @app.get("/services/data")
    def versions():
        return [{"label": label, "url": f"/services/data/v{v}", "version": v}
                for v, label in (("59.0", "Winter '24"), ("60.0", "Spring '24"), ("61.0", "Summer '24"),
                                 ("62.0", "Winter '25"), ("63.0", "Spring '25"), ("64.0", "Summer '25"),
                                 ("65.0", "Winter '26"), ("66.0", "Spring '26"))]

    @app.post("/services/oauth2/token")
    async def token(request: Request):
        form = dict(await request.form())
        org.count_call("POST /services/oauth2/token")
        try:
            return org.tokens.grant(form, request.headers.get("authorization"))
        except OAuthError as exc:
            return JSONResponse({"error": exc.error, "error_description": exc.description}, status_code=exc.status)

    app.include_router(bulk_api.router)
    app.include_router(rest_api.router)
    app.include_router(admin_api.router)
    app.add_middleware(StripTrailingSlash)
    return app
