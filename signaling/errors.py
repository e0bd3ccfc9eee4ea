"""The one error shape every HTTP endpoint and Socket.IO event returns.

``{"error": {"code": "token_expired", "message": "...", "details": {...}}}`` — ``code`` is
stable and machine-readable, ``message`` is for people.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)


class ApiError(Exception):
    """A refusal the client should see as is."""

    def __init__(self, status: int, code: str, message: str, details: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or {}
        self.headers = headers or {}  # e.g. Retry-After on 429

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return body


def error_response(err: ApiError) -> web.Response:
    return web.json_response({"error": err.to_dict()}, status=err.status, headers=err.headers)


@web.middleware
async def error_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as err:
        return error_response(err)
    except web.HTTPRequestEntityTooLarge as exc:  # a body over the app's client_max_size; its text names the limit
        return error_response(ApiError(413, "too_large", exc.text or "request body is too large"))
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = exc.reason.lower().replace(" ", "_")
        return error_response(ApiError(exc.status, code, exc.text or exc.reason))
    except Exception:
        log.exception("unhandled error", extra={"path": request.path, "method": request.method})
        return error_response(ApiError(500, "internal", "internal server error"))
