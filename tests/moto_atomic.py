"""moto's S3 server with create-if-absent made atomic, as S3 itself makes it.

moto answers a PUT with ``If-None-Match: *`` by checking whether the key exists and then
writing it, with other requests served in between: two concurrent creates of one key can
both succeed, which S3 never lets happen (and artifactfs relies on: it is how two writers
never take the same version number). Conditional writes are served one at a time here;
everything else stays concurrent.

Run as ``python tests/moto_atomic.py HOST PORT``.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import run_simple

_conditional = threading.Lock()


def atomic_conditional_writes(app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
    def serve(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        conditional = environ.get("REQUEST_METHOD") == "PUT" and (
            "HTTP_IF_NONE_MATCH" in environ or "HTTP_IF_MATCH" in environ
        )
        if not conditional:
            return app(environ, start_response)
        with _conditional:
            return list(app(environ, start_response))  # the whole write, before the next one

    return serve


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    os.environ.setdefault("MOTO_PORT", str(port))  # as moto_server does: it names itself in some answers
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(host, port, atomic_conditional_writes(app), threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
