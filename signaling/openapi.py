"""Declarative HTTP endpoints: one decorator registers the route, validates the body against a
pydantic model, checks the caller's role (and, for an API key, its scope), and describes it all in
``/api/openapi.json``.

Handlers are plain ``async def handler(request, body) -> BaseModel | dict | web.StreamResponse``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

from aiohttp import web
from pydantic import BaseModel, ConfigDict, ValidationError

from .auth import PRINCIPAL_KEY, PUBLIC, SCOPES, Principal, cookie_authenticated, require, require_scope
from .errors import ApiError
from .origins import origin_allowed

Handler = Callable[[web.Request, Any], Awaitable[Any]]
#: The public URL pages are served from (``Settings.base_url``); cookie-carrying writes must come from it.
PUBLIC_URL_KEY = web.AppKey("public_url", str)
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

#: The largest JSON body an endpoint takes unless it declares more (``api.route(..., max_body=...)``).
#: Only uploads (``raw_body``) go up to the app's ``client_max_size`` (the ``max_upload_bytes`` setting).
DEFAULT_MAX_JSON_BYTES = 64 * 1024

#: The scope an API key needs on an endpoint of this tag that names none: (for GET, for other methods).
TAG_SCOPES: dict[str, tuple[str, str]] = {
    "cases": ("cases:read", "cases:write"),
    "court": ("court", "court"),
    "agreements": ("agreements", "agreements"),
    "rooms": ("rooms", "rooms"),
    "webhooks": ("webhooks", "webhooks"),
}


def scope_for(method: str, tag: str, allow: frozenset[str], scope: str | None) -> str | None:
    """The scope an API key needs: ``scope`` if given, else the tag's default; ``None`` when keys
    (role ``service``) may not call the endpoint at all."""
    if "service" not in allow:
        if scope is not None:
            raise ValueError(f"scope={scope!r} on an endpoint the service role may not call")
        return None
    if scope is None and tag in TAG_SCOPES:
        scope = TAG_SCOPES[tag][0 if method.upper() == "GET" else 1]
    if scope is not None and scope not in SCOPES:
        raise ValueError(f"unknown API key scope {scope!r}; known: {', '.join(SCOPES)}")
    return scope


@dataclass
class Endpoint:
    method: str
    path: str
    handler: Handler
    summary: str
    allow: frozenset[str]
    tag: str
    request_model: type[BaseModel] | None = None
    response_model: type[BaseModel] | None = None
    status: int = 200
    raw_body: bool = False
    content_type: str | None = None
    description: str = ""
    scope: str | None = None  # what an API key needs; None: keys may not call it
    #: The largest body taken: for JSON :data:`DEFAULT_MAX_JSON_BYTES` unless set; for uploads
    #: (``raw_body``) the app's ``client_max_size`` unless set lower.
    max_body: int | None = None
    #: Installed only on an app for which this says yes (e.g. development-only endpoints).
    only_if: Callable[[web.Application], bool] | None = None
    #: The query string's parameters, validated before the handler runs (:func:`query_of`).
    query_model: type[Query] | None = None
    #: The body limit when it follows the app's settings (replaces ``max_body`` for that app).
    max_body_of: Callable[[web.Application], int] | None = None

    def served_by(self, app: web.Application) -> bool:
        return self.only_if is None or self.only_if(app)

    @property
    def body_limit(self) -> int | None:
        """The limit this endpoint enforces itself; ``None``: the app's ``client_max_size``."""
        return self.max_body if self.max_body is not None or self.raw_body else DEFAULT_MAX_JSON_BYTES

    def body_limit_for(self, app: web.Application | None) -> int | None:
        """:attr:`body_limit`, or what ``max_body_of`` says for ``app``: enforced and documented alike."""
        return self.max_body_of(app) if self.max_body_of is not None and app is not None else self.body_limit


def validation_details(exc: ValidationError) -> list[dict[str, Any]]:
    """One entry per problem: ``field`` (dotted path), ``type`` (pydantic's stable error type, e.g.
    ``string_too_short``: the client words it, see web_client/js/error_messages.js), ``ctx`` (its
    limits, e.g. ``{"min_length": 1}``) and ``problem`` (pydantic's English, for API clients)."""
    return [
        {"field": ".".join(str(p) for p in err["loc"]), "type": err["type"], "problem": err["msg"],
         "ctx": {k: v for k, v in (err.get("ctx") or {}).items() if isinstance(v, (int, float, str))}}
        for err in exc.errors(include_url=False)
    ]


def parse_model(model: type[BaseModel], data: Any) -> BaseModel:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ApiError(422, "invalid_body", "request body does not match the schema",
                       {"errors": validation_details(exc)}) from None


class Query(BaseModel):
    """Query-string parameters, declared with bounds (``api.route(..., query=...)``): unknown ones
    and out-of-range values (``?limit=-1``) are refused 422 ``invalid_query`` like a bad body."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


_QUERY = web.RequestKey("query", object)


def parse_query(model: type[Query], request: web.Request) -> Any:
    try:
        return model.model_validate(dict(request.query))
    except ValidationError as exc:
        raise ApiError(422, "invalid_query", "query parameters do not match the schema",
                       {"errors": validation_details(exc)}) from None


def query_of(request: web.Request) -> Any:
    """The endpoint's validated query (its declared ``query`` model)."""
    return request[_QUERY]


def _too_large(limit: int) -> ApiError:
    return ApiError(413, "too_large", f"request body exceeds {limit} bytes", {"limit": limit})


async def _read_at_most(request: web.Request, limit: int) -> bytes:
    """The body, refused as soon as it passes ``limit`` (a chunked body has no Content-Length)."""
    chunks: list[bytes] = []
    size = 0
    while chunk := await request.content.read(64 * 1024):
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def principal_of(request: web.Request) -> Principal:
    return request[PRINCIPAL_KEY]


@dataclass
class ApiRegistry:
    """Collects endpoints from every API module; ``install`` adds them to an aiohttp app."""

    endpoints: list[Endpoint] = field(default_factory=list)

    def route(
        self,
        method: str,
        path: str,
        *,
        summary: str,
        allow: frozenset[str],
        tag: str,
        request: type[BaseModel] | None = None,
        response: type[BaseModel] | None = None,
        status: int = 200,
        raw_body: bool = False,
        content_type: str | None = None,
        scope: str | None = None,
        only_if: Callable[[web.Application], bool] | None = None,
        max_body: int | None = None,
        max_body_of: Callable[[web.Application], int] | None = None,
        query: type[Query] | None = None,
    ) -> Callable[[Handler], Handler]:
        """Register ``handler``. ``raw_body=True`` hands the handler the request untouched (uploads).
        ``scope`` is what an API key needs when ``allow`` has ``service``; by default the tag's
        (:data:`TAG_SCOPES`: read for GET, write otherwise). ``only_if(app)`` decides at install
        time whether an app serves (and documents) the endpoint at all: elsewhere it is a plain 404.
        ``max_body`` raises a JSON endpoint's body limit above :data:`DEFAULT_MAX_JSON_BYTES` (or
        lowers an upload's below ``client_max_size``); a larger body is answered 413 ``too_large``.
        ``max_body_of(app)`` is that limit when it follows the app's settings (a streamed upload's).
        ``query`` declares the query string's parameters (documented, validated: :func:`query_of`)."""

        def decorate(handler: Handler) -> Handler:
            self.endpoints.append(
                Endpoint(method.upper(), path, handler, summary, allow, tag, request, response, status,
                         raw_body, content_type, (handler.__doc__ or "").strip(),
                         scope_for(method, tag, allow, scope), max_body=max_body, only_if=only_if,
                         query_model=query, max_body_of=max_body_of)
            )
            return handler

        return decorate

    def install(self, app: web.Application, public_url: str | None = None) -> None:
        """Route the endpoints ``app`` serves; ``public_url`` is where its pages live (without it,
        cookie-carrying writes are accepted only from the origin each request was addressed to)."""
        if public_url is not None:
            app[PUBLIC_URL_KEY] = public_url
        for ep in self.endpoints:
            if ep.served_by(app):
                app.router.add_route(ep.method, ep.path, self._wrap(ep))

    @staticmethod
    def _wrap(ep: Endpoint) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def handle(request: web.Request) -> web.StreamResponse:
            if ep.method in UNSAFE_METHODS and cookie_authenticated(request):
                _refuse_cross_origin(request)
            principal = principal_of(request)
            require(principal, ep.allow)
            if ep.allow != PUBLIC:  # a public endpoint needs no scope, whoever calls
                require_scope(principal, ep.scope)
            if ep.query_model is not None:
                request[_QUERY] = parse_query(ep.query_model, request)
            limit = ep.body_limit_for(request.app)
            if limit is not None and request.content_length is not None and request.content_length > limit:
                raise _too_large(limit)  # before reading a byte of it
            body: Any = None
            if ep.request_model is not None and not ep.raw_body:
                raw = await _read_at_most(request, limit or DEFAULT_MAX_JSON_BYTES)
                # Only JSON is parsed as JSON: a cross-site form can send text/plain without a
                # preflight, never application/json.
                if (raw or "Content-Type" in request.headers) and request.content_type != "application/json":
                    raise ApiError(415, "unsupported_media_type",
                                   f"send the body as application/json, not {request.content_type}")
                try:
                    data = json.loads(raw) if raw else {}
                except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                    raise ApiError(400, "invalid_json", f"request body is not JSON: {exc}") from None
                body = parse_model(ep.request_model, data)
            result = await ep.handler(request, body)
            if isinstance(result, web.StreamResponse):
                return result
            if isinstance(result, BaseModel):
                return web.json_response(result.model_dump(mode="json"), status=ep.status,
                                         dumps=lambda o: json.dumps(o, ensure_ascii=False))
            return web.json_response(result, status=ep.status,
                                     dumps=lambda o: json.dumps(o, ensure_ascii=False))

        handle.__name__ = ep.handler.__name__
        return handle

    def document(self, title: str, version: str, server_url: str,
                 app: web.Application | None = None) -> dict[str, Any]:
        """The OpenAPI 3.1 document for everything registered (that ``app`` serves, when given)."""
        paths: dict[str, dict[str, Any]] = {}
        schemas: dict[str, Any] = {}

        def ref(model: type[BaseModel]) -> dict[str, str]:
            schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
            for name, sub in schema.pop("$defs", {}).items():
                schemas[name] = sub
            schemas[model.__name__] = schema
            return {"$ref": f"#/components/schemas/{model.__name__}"}

        error_ref = {"$ref": "#/components/schemas/Error"}
        schemas["Error"] = {
            "type": "object",
            "required": ["error"],
            "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
                "code": {"type": "string"}, "message": {"type": "string"}, "details": {"type": "object"}}}},
        }
        for ep in self.endpoints:
            if app is not None and not ep.served_by(app):
                continue
            op: dict[str, Any] = {
                "summary": ep.summary,
                "tags": [ep.tag],
                "operationId": ep.handler.__name__,
                "responses": {},
            }
            if ep.description:
                op["description"] = ep.description
            if ep.allow != PUBLIC:
                op["security"] = [{"bearer": []}, {"session": []}]
                op["x-roles"] = sorted(ep.allow)
            if ep.scope is not None:
                op["x-scopes"] = [ep.scope]
            params = [
                {"name": seg[1:-1], "in": "path", "required": True, "schema": {"type": "string"}}
                for seg in ep.path.split("/") if seg.startswith("{")
            ]
            if ep.query_model is not None:
                schema = ep.query_model.model_json_schema()
                params += [{"name": name, "in": "query", "required": name in schema.get("required", []),
                            "schema": prop} for name, prop in schema.get("properties", {}).items()]
            if params:
                op["parameters"] = params
            if ep.request_model is not None:
                op["requestBody"] = {"required": True, "content": {"application/json": {"schema": ref(ep.request_model)}}}
            elif ep.raw_body and ep.content_type:
                op["requestBody"] = {"required": True, "content": {ep.content_type: {"schema": {"type": "string", "format": "binary"}}}}
            ok: dict[str, Any] = {"description": "OK"}
            if ep.response_model is not None:
                ok["content"] = {"application/json": {"schema": ref(ep.response_model)}}
            op["responses"][str(ep.status)] = ok
            refusals = [("400", "Malformed request"), ("401", "Not authenticated"),
                        ("403", "Role not allowed, or the API key lacks the scope"), ("404", "Not found"),
                        ("422", "Invalid body")]
            if "requestBody" in op:
                refusals.append(("413", "Request body too large"))
                if (limit := ep.body_limit_for(app)) is not None:
                    op["x-max-body-bytes"] = limit
                if ep.allow == PUBLIC:
                    refusals.append(("429", "Too many attempts: wait for Retry-After seconds"))
            for code, text in refusals:
                op["responses"][code] = {"description": text, "content": {"application/json": {"schema": error_ref}}}
            paths.setdefault(ep.path, {})[ep.method.lower()] = op
        return {
            "openapi": "3.1.0",
            "info": {"title": title, "version": version},
            "servers": [{"url": server_url}],
            "paths": paths,
            "components": {
                "schemas": schemas,
                "securitySchemes": {
                    "bearer": {"type": "http", "scheme": "bearer", "description": _BEARER},
                    "session": {"type": "apiKey", "in": "cookie", "name": "accord_session"},
                },
            },
        }


def _refuse_cross_origin(request: web.Request) -> None:
    """A write carried by the session cookie must come from one of our pages: the browser names the
    page in ``Origin`` (or, failing that, ``Referer``). A client that sends neither is no browser
    acting for a third-party page, so it is let through."""
    claimed = request.headers.get("Origin") or request.headers.get("Referer")
    if claimed is None:
        return
    public_url = request.app.get(PUBLIC_URL_KEY, "")
    if not origin_allowed(claimed, public_url=public_url, own=f"{request.scheme}://{request.host}"):
        raise ApiError(403, "cross_origin", "this request came from another site's page; it was refused")


_BEARER = ("API key (ak_...) or session token. An API key acts with the role `service` and only on operations "
           "whose `x-scopes` it was granted: " + "; ".join(f"`{k}`: {v}" for k, v in SCOPES.items()) + ".")

#: The process-wide registry API modules decorate into.
api = ApiRegistry()
