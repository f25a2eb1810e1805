"""Printers for tests: a network printer on a local port, and a FIFO standing in for /dev/usb/lp0.

Both keep every byte they were sent, across connections, so a test can decode
the ESC/POS stream (``tests.escpos_raster``) and count the tickets in it.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import threading
from pathlib import Path

from .escpos_raster import Printout, decode


def closed_port() -> int:
    """A local port nothing listens on (a printer that is switched off)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Collected:
    """Bytes received so far, one chunk per connection or open."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._chunks: list[bytes] = []

    def add(self, chunk: bytes) -> None:
        if chunk:
            with self._lock:
                self._chunks.append(chunk)

    @property
    def data(self) -> bytes:
        with self._lock:
            return b"".join(self._chunks)

    def printout(self) -> Printout:
        return decode(self.data)

    def tickets(self) -> int:
        """Tickets printed: each one ends with a cut."""
        return self.printout().commands.count("cut")


ONLINE = 0x12  # DLE EOT 1: online (bit 3 clear)
PAPER_OK, PAPER_LOW, PAPER_OUT = 0x12, 0x1E, 0x72  # DLE EOT 4 answers
STATUS_QUERY = re.compile(rb"\x10\x04([\x01\x04])")


class NetworkPrinter(Collected):
    """A raw TCP printer (port 9100 style) on 127.0.0.1 that reads everything and answers
    each real-time status query it reads (DLE EOT 1: online; DLE EOT 4: ``paper``), as a
    printer that can answer does. ``paper=None``: one that never answers.
    """

    def __init__(
        self, port: int = 0, *, paper: int | None = PAPER_OK, paper_before: int | None = None
    ) -> None:
        super().__init__()
        self.paper = paper
        self.paper_before = paper  # the first DLE EOT 4 of a connection (before the job)
        if paper_before is not None:
            self.paper_before = paper_before
        self.server = socket.create_server(("127.0.0.1", port))
        self.port: int = self.server.getsockname()[1]
        self.url = f"tcp://127.0.0.1:{self.port}?timeout=5"
        self.connections = 0
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            self.connections += 1
            with conn:
                received = bytearray()
                answered, papers = 0, 0
                while chunk := conn.recv(65536):
                    received += chunk
                    for query in STATUS_QUERY.finditer(received, answered):
                        answered = query.end()
                        if self.paper is None:
                            continue
                        if query[1] == b"\x01":
                            conn.sendall(bytes([ONLINE]))
                            continue
                        conn.sendall(bytes([self.paper if papers else self.paper_before]))
                        papers += 1
                self.add(bytes(received))

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.server.shutdown(socket.SHUT_RDWR)
        self.server.close()
        self._thread.join(timeout=5)


class DeafPrinter:
    """Accepts connections and never reads a byte: what the sender wrote sits in buffers."""

    def __init__(self) -> None:
        self.server = socket.socket()
        # Room for whole tickets in the buffers, so writing never blocks: only reading would.
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(16)
        self.port: int = self.server.getsockname()[1]
        self.url = f"tcp://127.0.0.1:{self.port}?timeout=5"
        self.accepted: list[socket.socket] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            self.accepted.append(conn)  # kept open, never read

    def close(self) -> None:
        for conn in self.accepted:
            conn.close()
        with contextlib.suppress(OSError):
            self.server.shutdown(socket.SHUT_RDWR)
        self.server.close()
        self._thread.join(timeout=5)


class FifoPrinter(Collected):
    """A named pipe read continuously: ``file://`` printing into it behaves like a device file."""

    def __init__(self, path: Path, *, start: bool = True) -> None:
        super().__init__()
        self.path = path
        os.mkfifo(path)
        self.url = f"file://{path}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        if start:
            self.start()

    def start(self) -> None:
        """Begin reading: until then a writer waits in open(), like a printer that is stuck."""
        self._thread.start()

    def _read(self) -> None:
        while not self._stop.is_set():
            with open(self.path, "rb") as pipe:  # waits for a writer
                self.add(pipe.read())

    def close(self) -> None:
        self._stop.set()
        if not self._thread.is_alive():
            return
        with contextlib.suppress(OSError):  # wake the reader if it waits for a writer
            os.close(os.open(self.path, os.O_WRONLY | os.O_NONBLOCK))
        self._thread.join(timeout=5)
