"""Counting what a store is asked for, at the HTTP client (aiohttp, under s3fs, gcsfs, adlfs)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest


@dataclass
class Requests:
    """Every request sent: (method, url, the byte range asked for or None)."""

    sent: list[tuple[str, str, tuple[int, int] | None]] = field(default_factory=list)
    bodies: list[tuple[str, str, int]] = field(default_factory=list)  # (method, url, bytes in the body)

    def bytes_sent(self, url_part: str) -> int:
        """Bytes in the bodies of requests whose URL holds ``url_part`` (uploads)."""
        return sum(n for _, url, n in self.bodies if url_part in url)

    def bytes_asked(self, url_part: str) -> int | None:
        """Bytes asked for by GETs whose URL holds ``url_part``; None if one asked for everything."""
        total = 0
        for method, url, rng in self.sent:
            if "/storage/v1/b/" in url and "alt=media" not in url:
                continue  # a GCS metadata request (the size): no content
            if method == "GET" and url_part in url:
                if rng is None:
                    return None
                total += rng[1] - rng[0] + 1
        return total


_RANGE = re.compile(r"bytes=(\d+)-(\d+)")


@pytest.fixture
def requests(monkeypatch: pytest.MonkeyPatch) -> Iterator[Requests]:
    seen = Requests()
    original = aiohttp.ClientSession._request

    async def counting(self: aiohttp.ClientSession, method: str, url: Any, *args: Any, **kw: Any) -> Any:
        headers = {k.lower(): v for k, v in dict(kw.get("headers") or {}).items()}
        m = _RANGE.fullmatch(str(headers.get("range") or headers.get("x-ms-range") or ""))
        seen.sent.append((method, str(url), (int(m[1]), int(m[2])) if m else None))
        seen.bodies.append((method, str(url), _body_size(kw.get("data"), headers)))
        return await original(self, method, url, *args, **kw)

    monkeypatch.setattr(aiohttp.ClientSession, "_request", counting)
    yield seen


def _body_size(data: Any, headers: dict[str, Any]) -> int:
    if isinstance(data, bytes | bytearray | memoryview):
        return len(data)
    return int(headers.get("content-length") or 0)
