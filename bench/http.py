"""A minimal keep-alive HTTP/1.1 client for the benchmarks that post JSON to the server.

On the benchmarks' two shared cores httpx spent 1.5-2 ms of CPU per request, taken from the server
under test (in the ingestion benchmark its senders used a quarter of the machine). This client sends
the same requests with a fraction of that: one connection, one request at a time, a whole answer
read by ``Content-Length``.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit


class HttpConnection:
    """One keep-alive HTTP/1.1 connection that posts JSON and reads the whole answer."""

    def __init__(self, base_url: str, token: str | None = None) -> None:
        url = urlsplit(base_url)
        self.host, self.port = url.hostname or "127.0.0.1", url.port or 80
        self.token = token
        self._head = f"Host: {url.netloc}\r\nContent-Type: application/json\r\n"
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def post(self, path: str, body: bytes, token: str | None = None) -> tuple[int, bytes]:
        """POST ``body`` to ``path`` with ``token`` (or the connection's) as bearer; (status, body).

        A kept-alive connection the server has closed meanwhile (uvicorn closes idle ones after 5 s) is
        opened again and the request sent once more, as httpx does; the benchmarks' requests are
        idempotent (event ids, ticket ``client_ref``).
        """
        bearer = token or self.token
        auth = f"Authorization: Bearer {bearer}\r\n" if bearer else ""
        request = f"POST {path} HTTP/1.1\r\n{self._head}{auth}Content-Length: {len(body)}\r\n\r\n".encode()
        reused = self._streams is not None
        try:
            return await self._exchange(request + body)
        except (asyncio.IncompleteReadError, ConnectionError):
            await self.close()
            if not reused:
                raise
        return await self._exchange(request + body)

    async def _exchange(self, request: bytes) -> tuple[int, bytes]:
        if self._streams is None:
            self._streams = await asyncio.open_connection(self.host, self.port)
        reader, writer = self._streams
        writer.write(request)
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        status, length, close = int(head[9:12]), 0, False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                raise RuntimeError(f"unexpected transfer-encoding {value.strip()!r}")
            elif name == b"connection":
                close = value.strip().lower() == b"close"
        answer = await reader.readexactly(length) if length else b""
        if close:
            await self.close()
        return status, answer

    async def close(self) -> None:
        """Close the connection (a later post opens a new one)."""
        if self._streams is not None:
            writer = self._streams[1]
            self._streams = None
            writer.close()
            await writer.wait_closed()
