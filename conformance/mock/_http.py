"""werkzeug plumbing: a threaded server on a pre-bound socket that can hang up on a client."""

from __future__ import annotations

import socket
import struct
import threading
from typing import Any

from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler


class DropConnection(BaseException):
    """Raised by the WSGI app to close the connection without sending any HTTP response.

    A BaseException so werkzeug's ``except Exception`` (which would answer 500) lets it through
    to :class:`_Handler`, the one place that knows the socket.
    """


class _Handler(WSGIRequestHandler):
    # Set explicitly: werkzeug otherwise sets it on the handler class as a side effect.
    protocol_version = "HTTP/1.1"
    # An idle connection that never sends a request must not keep stop() waiting forever.
    timeout = 10
    server: MockHTTPServer
    _drop = False

    def handle(self) -> None:
        self._drop = False
        try:
            super().handle()
        except DropConnection:
            # Linger 0: close() sends RST instead of FIN, so the client gets a reset (what a
            # crashing proxy or backend looks like), not an orderly empty reply.
            self._drop = True
            self.connection.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
            )

    def finish(self) -> None:
        super().finish()
        if self._drop:
            # Close before socketserver's shutdown(SHUT_WR), which would send a FIN first.
            self.connection.close()

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if not self.server.quiet:
            super().log_request(code, size)


class MockHTTPServer(ThreadedWSGIServer):
    """Threaded werkzeug server whose handler threads are joined on close.

    ``stopping`` is set before closing so handlers waiting in a ``slow`` fault wake up.
    """

    daemon_threads = False
    block_on_close = True

    def __init__(self, sock: socket.socket, app: Any, stopping: threading.Event, quiet: bool):
        self.stopping = stopping
        self.quiet = quiet
        host, port = sock.getsockname()[:2]
        # fd= makes werkzeug adopt (dup) our already-listening socket instead of binding itself,
        # which on failure would print and sys.exit() - wrong for a library.
        super().__init__(host, port, app, handler=_Handler, fd=sock.fileno())

    def server_close(self) -> None:
        self.stopping.set()
        super().server_close()


def bind(host: str, port: int) -> socket.socket:
    """A listening socket; raises OSError (e.g. address in use) like any socket call."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.create_server((host, port), family=family)
