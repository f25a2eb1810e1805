"""A TCP proxy of the tests' own between a site server and the hub: pass, cut, delay, blackhole.

- ``pass``: bytes flow both ways;
- ``cut``: open connections are closed and new ones are refused (closed at once), as
  when the line drops and the router says so;
- ``blackhole``: connections are accepted and nothing comes back, as a dead line where
  packets vanish (the client waits for its own timeout);
- ``delay``: every chunk waits ``delay_s`` before it is passed on;
- ``hold``: requests pass, the answers are kept back: ``restore`` lets them go on,
  ``cut`` drops them (the hub did the work, the site never hears of it).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time


class TcpProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.mode = "pass"
        self.delay_s = 0.0
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self.port: int = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._stopped = False
        threading.Thread(target=self._accept, daemon=True).start()

    # --- what a test does ---------------------------------------------------------

    def cut(self) -> None:
        self.mode = "cut"
        self._close_all()

    def blackhole(self) -> None:
        self.mode = "blackhole"
        self._close_all()

    def delay(self, seconds: float) -> None:
        self.delay_s = seconds
        self.mode = "delay"

    def hold_answers(self) -> None:
        self.mode = "hold"

    def restore(self) -> None:
        self.delay_s = 0.0
        self.mode = "pass"

    def stop(self) -> None:
        self._stopped = True
        with contextlib.suppress(OSError):
            self._listener.close()
        self._close_all()

    # --- the plumbing ---------------------------------------------------------------

    def _close_all(self) -> None:
        with self._lock:
            sockets, self._open = list(self._open), set()
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()

    def _track(self, sock: socket.socket) -> None:
        with self._lock:
            self._open.add(sock)

    def _accept(self) -> None:
        while not self._stopped:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self.mode == "cut":
                client.close()
                continue
            self._track(client)
            if self.mode == "blackhole":
                continue  # held open, never answered, closed when the mode changes
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            self._track(upstream)
            for src, dst, answers in ((client, upstream, False), (upstream, client, True)):
                threading.Thread(target=self._pipe, args=(src, dst, answers), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket, answers: bool) -> None:
        try:
            while True:
                chunk = src.recv(65536)
                if not chunk:
                    break
                while answers and self.mode == "hold":
                    time.sleep(0.01)
                if self.mode == "delay" and self.delay_s:
                    time.sleep(self.delay_s)
                if self.mode in ("cut", "blackhole"):
                    break
                dst.sendall(chunk)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                with contextlib.suppress(OSError):
                    sock.close()
