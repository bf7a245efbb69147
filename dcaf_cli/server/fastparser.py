"""uvicorn's httptools protocol with the guards of `connections`: a deadline for each
request's headers, `TCP_NODELAY`, and a bound on the size of the headers (httptools
sets none; h11 is given 16 KB). Imported by name, only when httptools is installed."""

from __future__ import annotations

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from dcaf_cli.server.connections import HeaderDeadline

MAX_HEADER_BYTES = 16 * 1024


class HeadersTooLarge(Exception):
    """Raised from the parser's callback: uvicorn answers 400 and closes."""


class GuardedHttpToolsProtocol(HeaderDeadline, HttpToolsProtocol):
    """Requests whose headers are in but not yet answered are counted (`_open`): with
    pipelining, the next request's headers can arrive before the previous response."""

    _open = 0
    _header_bytes = 0

    def on_message_begin(self) -> None:
        self._header_bytes = 0
        super().on_message_begin()

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._open += 1
        self._disarm()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        self._open = max(self._open - 1, 0)
        super().on_response_complete()
        self._rearm()

    def _waiting(self) -> bool:
        return self._open == 0

    def _count(self, size: int) -> None:
        self._header_bytes += size
        if self._header_bytes > MAX_HEADER_BYTES:
            raise HeadersTooLarge
