"""Socket.IO test clients of the app, and what they received (the integration tests' helpers).

``socket_clients(app)`` opens clients and disconnects every one of them at the end; each test
module's ``connect`` fixture says how its clients authenticate (a device token, a login).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from flask_socketio import SocketIOTestClient

Payload = dict[str, Any]
Received = list[tuple[str, Payload]]


@contextmanager
def socket_clients(app: Flask) -> Iterator[Callable[..., SocketIOTestClient]]:
    """``open(auth, flask_test_client=None)``: a connected client; all are closed at the end."""
    clients: list[SocketIOTestClient] = []

    def open_client(auth: Any, flask_test_client: Any = None) -> SocketIOTestClient:
        client = app.extensions["socketio"].test_client(
            app, auth=auth, flask_test_client=flask_test_client
        )
        clients.append(client)
        return client

    try:
        yield open_client
    finally:
        for client in clients:
            if client.is_connected():
                client.disconnect()


def received(client: SocketIOTestClient, name: str | None = None) -> Received:
    """The messages the client got since the last call, as (name, payload); only ``name``'s
    when given. Each carries one payload, on the default namespace."""
    out: Received = []
    for message in client.get_received():
        assert message["namespace"] == "/"
        assert len(message["args"]) == 1, message
        out.append((message["name"], message["args"][0]))
    return [(n, p) for n, p in out if name is None or n == name]


def snapshot(client: SocketIOTestClient) -> Payload:
    """The one message expected now: a ``state`` snapshot."""
    messages = received(client)
    assert [name for name, _ in messages] == ["state"]
    return messages[0][1]
