"""uvicorn's httptools protocol with limits on the request head and on slow clients.

uvicorn bounds neither the request head nor the time a client takes to send it when it
parses with httptools (its default when httptools is installed): a 16 MB header was taken
whole, ten connections sending 40 MB of unfinished headers each held 400 MB, and a client
that sends a byte now and then (slowloris) kept its connection for ever. `--timeout-keep-alive`
only covers the wait between requests, and `--h11-max-incomplete-event-size` only the
slower h11 parser. This subclass adds, per connection (ServerLimits, APP_* variables):

- the request line and headers: at most `max_header_bytes` (431), `max_headers` header
  fields (431) and `max_url_bytes` of request target (414), checked as the bytes arrive;
- the request head must arrive within `header_timeout` seconds of the connection opening
  (or of its first byte, for a later request on the connection), its body within
  `body_timeout` seconds of the head: else 408 and the connection is closed.

Timing costs one timer per connection, re-armed only when it fires, and a clock reading per
request phase; a request's parse runs as before, with a byte count while the head arrives.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from .headers import SECURITY_HEADERS
from .settings import ServerLimits

# The app's security headers (`headers.py`), also on the refusals written here.
REFUSAL_HEADERS = b"".join(
    b"%s: %s\r\n" % (name.lower().encode(), value.encode())
    for name, value in SECURITY_HEADERS.items()
)


@cache
def server_limits() -> ServerLimits:
    """Read once per process, from the environment (also in each `--workers` process)."""
    return ServerLimits()


class HeadTooLarge(Exception):
    """Raised in a parser callback to stop parsing a request that is refused."""


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        limits = server_limits()
        self.max_head, self.max_headers = limits.max_header_bytes, limits.max_headers
        self.max_url = limits.max_url_bytes
        self.header_timeout, self.body_timeout = limits.header_timeout, limits.body_timeout
        self.in_head = True  # waiting for a request line and headers
        self.head_bytes = 0  # their bytes received so far, in reads that ended in the head
        self.head_size = 0  # the size of the headers parsed so far
        self.deadline: float | None = None  # when the part being waited for is late
        self.refusal: tuple[int, str] | None = None
        self.watch: Any = None  # the connection's one timer

    # The connection: one timer, checking the deadline of the part being received.
    def connection_made(self, transport: Any) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.deadline = self.loop.time() + self.header_timeout
        self.watch = self.loop.call_later(self.header_timeout, self.check_deadline)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.watch is not None:
            self.watch.cancel()
        super().connection_lost(exc)

    def check_deadline(self) -> None:
        if self.transport.is_closing():
            return
        now = self.loop.time()
        if self.deadline is not None and now >= self.deadline:
            if self.in_head:
                self.refuse(408, "request head not received in time")
            elif self.cycle is not None and not self.cycle.response_started:
                self.refuse(408, "request body not received in time")
            else:
                self.transport.close()
            return
        wait = self.header_timeout if self.deadline is None else self.deadline - now
        self.watch = self.loop.call_later(wait, self.check_deadline)

    # Bytes in. The parser reports a header once it is whole, so a read that starts and ends
    # in the head counts towards its size too: an endless header is cut off as it arrives.
    def data_received(self, data: bytes) -> None:
        if self.refusal is not None:
            return
        was_in_head = self.in_head
        super().data_received(data)
        if was_in_head and self.in_head and not self.transport.is_closing():
            self.head_bytes += len(data)
            if self.head_bytes > self.max_head:
                self.refuse(431, "request header fields too large")

    # Parser callbacks.
    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.in_head = True
        self.head_bytes = self.head_size = 0
        if self.deadline is None:  # a later request on this connection: from its first byte
            self.deadline = self.loop.time() + self.header_timeout

    def on_url(self, url: bytes) -> None:
        super().on_url(url)
        if len(self.url) > self.max_url:
            self.stop(414, "request target too long")

    def on_header(self, name: bytes, value: bytes) -> None:
        super().on_header(name, value)
        self.head_size += len(name) + len(value) + 4  # name: value CRLF
        if len(self.headers) > self.max_headers:
            self.stop(431, "too many header fields")
        if self.head_size + len(self.url) > self.max_head:
            self.stop(431, "request header fields too large")

    def on_headers_complete(self) -> None:
        self.in_head = False
        self.deadline = self.loop.time() + self.body_timeout
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self.deadline = None
        super().on_message_complete()

    # Refusing: uvicorn answers a parser error with a 400; a refused request gets its own.
    def stop(self, status: int, reason: str) -> None:
        self.refusal = (status, reason)
        raise HeadTooLarge(reason)

    def send_400_response(self, msg: str) -> None:
        if self.refusal is None:
            super().send_400_response(msg)
        else:
            self.refuse(*self.refusal)

    def refuse(self, status: int, reason: str) -> None:
        """Answer `status` with `reason` as text and close the connection."""
        self.refusal = (status, reason)
        self.logger.warning("refused a request from %s: %d, %s", self.client, status, reason)
        body = reason.encode("ascii")
        head = [STATUS_LINE[status]]
        for name, value in self.server_state.default_headers:
            head += [name, b": ", value, b"\r\n"]
        head += [
            REFUSAL_HEADERS,
            b"content-type: text/plain; charset=utf-8\r\n",
            b"content-length: %d\r\n" % len(body),
            b"connection: close\r\n\r\n",
        ]
        self.transport.write(b"".join(head) + body)
        self.transport.close()
