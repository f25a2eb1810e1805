"""A hub app and a site database in one test, the worker's HTTP going to the hub's test client."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

HUB_URL = "http://hub.test"


class ClientHttp:
    """What the sync worker needs of ``requests.Session``, answered by a Flask test client."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.down = False  # a cut line: every request fails

    def post(
        self,
        url: str,
        json: Any = None,
        data: bytes | None = None,
        headers: dict[str, str] | None = None,
        **_: Any,
    ) -> Any:
        import requests

        if self.down:
            raise requests.ConnectionError("line cut")
        path, headers = urlsplit(url).path, headers or {}
        if data is not None:  # the worker's own JSON text, as requests sends it
            return _Answer(self.client.post(path, data=data, headers=headers))
        return _Answer(self.client.post(path, json=json, headers=headers))


@dataclass
class _Answer:
    raw: Any

    @property
    def status_code(self) -> int:
        return int(self.raw.status_code)

    def json(self) -> Any:
        data = self.raw.get_json(silent=True)
        if data is None:
            raise ValueError("no JSON")
        return data


def hub_code(hub_app: Any, site: str = "s1", name: str | None = None) -> str:
    from server.hub.credentials import register_site
    from server.runtime import runtime

    rt = runtime(hub_app)
    with rt.db.writes() as session:
        _, code = register_site(session, site, name, rt.clock())
        session.commit()
    return code


def join(site_db: Any, http: ClientHttp, code: str, clock: Any, managed: str = "local") -> Any:
    from server.sync.link import join_hub

    with site_db.writes() as session:
        link = join_hub(session, HUB_URL, code, managed, clock(), http=http)
        session.commit()
        return link.credential


def drain(worker: Any) -> int:
    """Run the worker until the outbox is empty; how many entries it sent."""
    sent = 0
    for _ in range(10_000):
        result = worker.step()
        if result.failed:
            raise AssertionError("the hub refused a batch")
        sent += result.sent
        if result.sent == 0:
            return sent
    raise AssertionError("the outbox never emptied")


def _get(self: ClientHttp, url: str, headers: dict[str, str] | None = None, **_: Any) -> Any:
    import requests

    if self.down:
        raise requests.ConnectionError("line cut")
    return _Answer(self.client.get(urlsplit(url).path, headers=headers or {}))


ClientHttp.get = _get  # type: ignore[attr-defined]
