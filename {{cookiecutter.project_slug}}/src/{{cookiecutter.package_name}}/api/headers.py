"""Security headers on every answer, added by a small pure-ASGI middleware.

The web page takes an API key, so no other site may frame it (clickjacking) and it runs only
its own scripts: the Content-Security-Policy allows files from this service alone, which the
page (`static/`) and /docs (`docs.py`: Swagger UI served here, started by a file, not an
inline script) are made to work with. Inline styles stay allowed, as Swagger UI sets some;
`data:` images are its icons. Browsers are also told not to guess content types and not to
send this service's URLs to other sites.

The middleware wraps the whole app, outside Starlette's error handling, so even a 500 carries
the headers. It appends a fixed list of header pairs to the response start and does nothing
else: about 2 µs an answer, and /predict's throughput measured the same with and without it
(wrk, alternating rounds: 0.99 to 1.01). Answers written before the app sees a request do not
pass through it: the launcher's refusals (431, 414, 408: `protocol.py`) add the same headers
themselves; uvicorn's own 400 for a malformed request has none.
"""

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}

Scope = dict[str, Any]
Message = dict[str, Any]
ASGIApp = Callable[..., Any]


class SecurityHeaders:
    """ASGI middleware: `headers` added to every HTTP response's start message."""

    def __init__(self, app: ASGIApp, headers: dict[str, str] = SECURITY_HEADERS) -> None:
        self.app = app
        self.headers = [(k.lower().encode(), v.encode()) for k, v in headers.items()]

    async def __call__(self, scope: Scope, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = self.headers

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def add_security_headers(app: FastAPI) -> None:
    """Wrap `app`'s whole middleware stack (built on its first request) in SecurityHeaders."""
    build = app.build_middleware_stack
    app.build_middleware_stack = lambda: SecurityHeaders(build())  # type: ignore[method-assign]
