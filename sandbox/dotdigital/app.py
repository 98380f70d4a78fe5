"""The FastAPI application: auth, rate limits, injected faults, body limit and call statistics around
the route modules, in the order a real gateway applies them."""

from __future__ import annotations

import base64
import binascii
import threading
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from sandbox.dotdigital import (
    routes_account,
    routes_admin,
    routes_books,
    routes_campaigns,
    routes_consent,
    routes_imports,
    routes_programs,
    routes_v3,
)
from sandbox.dotdigital.engagement import apply_due_consent
from sandbox.dotdigital.errors import UNAUTHORIZED_MESSAGE, ApiError, generic_error, is_v3_path, v3_error
from sandbox.dotdigital.faults import Faults, RateLimiter, tier_of
from sandbox.dotdigital.imports import ImportQueue
from sandbox.dotdigital.store import Store

ADMIN_PREFIX = "/__sandbox__/"
MAX_BODY_BYTES = 50 * 1024 * 1024


@dataclass
class Emulator:
    store: Store
    faults: Faults
    limiter: RateLimiter
    imports: ImportQueue
    api_user: str
    api_password: str
    base_url: str
    seed: int
    import_delay: float
    enrolment_allowance: int = 20
    calls: dict = field(default_factory=dict)
    stats_lock: threading.Lock = field(default_factory=threading.Lock)


def build_app(state_dir: Path, base_url: str, api_user: str, api_password: str, seed: int = 0,
              faults: list[dict] | None = None, rate_limits: dict | None = None, import_delay: float = 0.5,
              on_startup=None) -> FastAPI:
    store = Store(state_dir)
    fault_rules = Faults(seed)
    fault_rules.set(faults or [])
    imports = ImportQueue(store, fault_rules, import_delay)
    emu = Emulator(store, fault_rules, RateLimiter(rate_limits), imports, api_user, api_password, base_url, seed,
                   import_delay)

    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        imports.start()
        if on_startup:
            on_startup()
        yield
        imports.stop()

    app = FastAPI(title="Dotdigital sandbox", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.emu = emu
    for module in (routes_admin, routes_account, routes_imports, routes_consent, routes_books, routes_v3,
                   routes_campaigns, routes_programs):
        app.include_router(module.router)

    def template_of(scope) -> str:
        for route in app.router.routes:
            match, _child = route.matches(scope)
            if match == Match.FULL:
                return route.path
        return "(unmatched)"

    @app.middleware("http")
    async def gateway(request: Request, call_next):
        path = request.url.path
        if path.startswith(ADMIN_PREFIX):
            return await call_next(request)
        template = template_of(request.scope)
        key = f"{request.method} {template}"
        with emu.stats_lock:
            emu.calls[key] = emu.calls.get(key, 0) + 1
        if not _authorised(request, emu):
            return JSONResponse({"message": UNAUTHORIZED_MESSAGE}, status_code=401,
                                headers={"WWW-Authenticate": 'Basic realm="apiconnector.com"'})
        allowed, rate_headers = emu.limiter.check(tier_of(request.method, template))
        if not allowed:
            return generic_error(path, 429, "ERROR_APIUSAGE_EXCEEDED", "tooManyRequests",
                                 "Too many requests. The rate limit for this call has been exceeded.",
                                 rate_headers).response()
        fault = emu.faults.take_http(request.method, path)
        if fault:
            headers = {}
            if fault["status"] == 429:
                reset = str(fault.get("reset_seconds", 1))
                headers = {"X-RateLimit-Limit": "0", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset,
                           "X-RateLimit-Scope": f"{tier_of(request.method, template).lower()}CallRate"}
                return generic_error(path, 429, "ERROR_APIUSAGE_EXCEEDED", "tooManyRequests",
                                     "Too many requests. The rate limit for this call has been exceeded.",
                                     headers).response()
            return generic_error(path, fault["status"], "ERROR_SYSTEM_SERVICETEMPORARILYUNAVAILABLE",
                                 "serviceUnavailable", "The service is temporarily unavailable.").response()
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > MAX_BODY_BYTES:
            return generic_error(path, 413, "ERROR_IMPORT_FILE_TOO_LARGE", "requestTooLarge",
                                 "The request body is larger than 50 MB.").response()
        apply_due_consent(store)
        response = await call_next(request)
        for name, value in rate_headers.items():
            response.headers[name] = value
        return response

    @app.exception_handler(ApiError)
    async def api_error(_request: Request, exc: ApiError):
        return exc.response()

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        if exc.status_code == 404 and is_v3_path(request.url.path):
            return v3_error(404, "notFound", "The requested resource does not exist").response()
        if exc.status_code == 404:
            return JSONResponse({"message": "No HTTP resource was found that matches the request URI"},
                                status_code=404)
        if exc.status_code == 405:
            return JSONResponse({"message": "The requested resource does not support this http method"},
                                status_code=405)
        return JSONResponse({"message": str(exc.detail)}, status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        return generic_error(request.url.path, 400, "ERROR_PARAMETER_INVALID", "badRequest",
                             "The request is invalid.").response()

    return app


def _authorised(request: Request, emu: Emulator) -> bool:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("basic "):
        return False
    try:
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return False
    return user.lower() == emu.api_user.lower() and password == emu.api_password
