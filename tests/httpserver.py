"""A small real HTTP server on 127.0.0.1 for reference tests: files from a dict, with or
without an ETag, answering HEAD and (ranged) GET as object stores and web servers do."""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class Served:
    """What the server holds: path -> bytes, and which ETag it sends: "strong", "weak" or None."""

    files: dict[str, bytes] = field(default_factory=dict)
    etag: str | None = "strong"
    port: int = 0

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}"


def _handler(served: Served) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # quiet
            pass

        def _head(self) -> bytes | None:
            data = served.files.get(self.path.lstrip("/"))
            if data is None:
                self.send_error(404)
                return None
            return data

        def _headers(self, data: bytes, status: int, length: int, extra: dict[str, str]) -> None:
            self.send_response(status)
            self.send_header("Content-Length", str(length))
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("Last-Modified", "Mon, 02 Nov 2026 10:00:00 GMT")  # not a validator
            if served.etag:
                weak = "W/" if served.etag == "weak" else ""
                self.send_header("ETag", f'{weak}"{hashlib.md5(data).hexdigest()}"')
            for k, v in extra.items():
                self.send_header(k, v)
            self.end_headers()

        def do_HEAD(self) -> None:
            data = self._head()
            if data is not None:
                self._headers(data, 200, len(data), {})

        def do_GET(self) -> None:
            data = self._head()
            if data is None:
                return
            m = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", ""))
            if m:
                start = int(m[1])
                end = min(int(m[2]) + 1 if m[2] else len(data), len(data))
                part = data[start:end]
                self._headers(data, 206, len(part), {"Content-Range": f"bytes {start}-{end - 1}/{len(data)}"})
                self.wfile.write(part)
            else:
                self._headers(data, 200, len(data), {})
                self.wfile.write(data)

    return Handler


@pytest.fixture
def http_server() -> Iterator[Served]:
    served = Served()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(served))
    served.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield served
    server.shutdown()
    server.server_close()
