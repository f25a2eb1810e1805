"""The gevent WSGI server's per-connection handler, as `xephang serve` runs it."""

from __future__ import annotations

import contextlib
import socket

from gevent import pywsgi


class NoDelayHandler(pywsgi.WSGIHandler):  # type: ignore[misc]
    """Sends every write at once (TCP_NODELAY).

    gevent writes a response's headers and its body with two sends.  With
    Nagle's algorithm on, the body waits until the client acknowledges the
    headers, and a client holds that acknowledgement back for up to 40 ms on a
    kept-alive connection: every API answer to a kiosk or a clerk page paid
    those 40 ms, and so did Socket.IO events sent back to back.
    """

    def handle(self) -> None:
        with contextlib.suppress(OSError):  # not a TCP socket
            self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().handle()
