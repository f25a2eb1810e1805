"""At a site: answer the citizens' requests the hub relays (``server.hub.relay``).

The worker long-polls the hub with the site's credential, runs each request through this
server's own application (in this process, as if the phone had reached it, under the
prefix ``/r/<site>`` so that the page's links go back through the hub) and posts the
answer. Only the phone pages are served this way: a request for anything else is
answered 404 here too, whatever the hub sends. While the hub cannot be reached it backs
off like the sync worker; citizens at the center are not concerned.
"""

from __future__ import annotations

import base64
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from sqlalchemy import select
from werkzeug.test import EnvironBuilder, run_wsgi_app

from ..models import HubLink, Site
from .worker import backoff_s

log = logging.getLogger(__name__)

RELAYED_PREFIXES = ("/t/", "/s/", "/phone/static/", "/static/")
REQUEST_HEADERS = frozenset(
    {
        "accept",
        "accept-language",
        "content-type",
        "cookie",
        "origin",
        "referer",
        "user-agent",
        "x-csrftoken",
    }
)
# What the answer keeps of this server's headers (the hub filters them again).
DROPPED_ANSWER_HEADERS = frozenset({"content-length", "connection", "transfer-encoding"})
WAIT_S = 20
MAX_BODY = 64 * 1024
ADDRESS = re.compile(r"[0-9A-Fa-f:.]{1,45}")
# The environ key a relayed request carries: the phone page then polls instead of Socket.IO.
RELAYED = "xephang.relayed"


@dataclass(frozen=True)
class RelayLink:
    site_code: str
    hub_url: str
    credential: str


class RelayWorker:
    def __init__(
        self,
        app: Any,
        db: Any,
        *,
        http: Any = None,
        wait_s: float = WAIT_S,
        timeout_s: float = 30.0,
        backoff_max_s: float = 30.0,
    ) -> None:
        self.app = app
        self.db = db
        self.http = http or requests.Session()
        self.wait_s = wait_s
        self.timeout = timeout_s + wait_s
        self.backoff_max_s = backoff_max_s
        self.failures = 0

    def links(self) -> list[RelayLink]:
        with self.db.reads() as session:
            rows = session.execute(
                select(Site.code, HubLink.hub_url, HubLink.credential).join(
                    Site, Site.id == HubLink.site_id
                )
            ).all()
        return [RelayLink(code, url.rstrip("/"), credential) for code, url, credential in rows]

    def poll_once(self, link: RelayLink, wait_s: float) -> int:
        """One long poll; how many requests it answered. Raises on a fault of the line."""
        answer = self.http.get(
            f"{link.hub_url}/api/v1/hub/relay",
            params={"wait": f"{wait_s:g}"},
            headers={"Authorization": f"Bearer {link.credential}"},
            timeout=self.timeout,
        )
        if answer.status_code != 200:
            raise requests.ConnectionError(f"hub answered {answer.status_code}")
        items = answer.json().get("requests", [])
        if not isinstance(items, list) or not items:
            return 0
        replies = []
        for item in items:
            reply = self.serve(item, link)
            if reply is not None:
                replies.append({"id": item["id"], **reply})
        if replies:  # one request for the whole poll's answers
            self.http.post(
                f"{link.hub_url}/api/v1/hub/relay",
                json={"answers": replies},
                headers={"Authorization": f"Bearer {link.credential}"},
                timeout=self.timeout,
            )
        return len(items)

    def serve(self, item: Any, link: RelayLink) -> dict[str, Any] | None:
        """This server's answer to one relayed request (None: not a request to answer)."""
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            return None
        try:
            environ = relayed_environ(item, link.site_code)
        except ValueError:
            return {"status": 400, "headers": [], "body": ""}
        if not environ["PATH_INFO"].startswith(RELAYED_PREFIXES):
            return {"status": 404, "headers": [], "body": ""}
        chunks, status, headers = run_wsgi_app(self.app, environ, buffered=True)
        body = b"".join(chunks)
        if hasattr(chunks, "close"):
            chunks.close()
        return {
            "status": int(status.split(" ", 1)[0]),
            "headers": [
                [name, value]
                for name, value in headers.items()
                if name.lower() not in DROPPED_ANSWER_HEADERS
            ],
            "body": base64.b64encode(body).decode(),
        }

    def step(self) -> bool:
        """Every joined site once; False when the hub could not be reached."""
        links = self.links()
        if not links:
            return True
        wait = self.wait_s if len(links) == 1 else 1.0
        for link in links:
            try:
                self.poll_once(link, wait)
            except (requests.RequestException, ValueError) as err:
                log.debug("relay poll of %s failed: %s", link.site_code, err)
                return False
        return True

    def run(self, sleep: Callable[[float], None] = time.sleep) -> None:
        while True:
            try:
                ok = self.step()
            except Exception:  # a database fault here: try again later
                log.exception("the relay worker failed")
                ok = False
            if ok:
                self.failures = 0
                if not self.links():
                    sleep(10.0)
            else:
                self.failures += 1
                sleep(backoff_s(self.failures, most=self.backoff_max_s))


def relayed_environ(item: dict[str, Any], site_code: str) -> dict[str, Any]:
    """The WSGI environ of a relayed request, every field checked (ValueError if wrong)."""
    method, path, query = item.get("method"), item.get("path"), item.get("query", "")
    if method not in ("GET", "POST") or not isinstance(path, str) or not isinstance(query, str):
        raise ValueError("method, path or query")
    if not path.startswith("/") or ".." in path or "//" in path or len(path) > 2000:
        raise ValueError("path")
    base_url = item.get("base_url")
    parts = urlsplit(base_url) if isinstance(base_url, str) else None
    if (
        parts is None
        or parts.scheme not in ("http", "https")
        or not parts.netloc
        or parts.path != f"/r/{site_code}"
    ):
        raise ValueError("base_url")
    headers: dict[str, str] = {}
    for pair in item.get("headers") or []:
        if (
            isinstance(pair, list)
            and len(pair) == 2
            and all(isinstance(part, str) for part in pair)
            and pair[0].lower() in REQUEST_HEADERS
        ):
            headers[pair[0]] = pair[1]
    body = base64.b64decode(item.get("body") or "", validate=True)
    if len(body) > MAX_BODY:
        raise ValueError("body")
    address = item.get("remote_addr")
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), None)
    headers = {k: v for k, v in headers.items() if k.lower() != "content-type"}
    builder = EnvironBuilder(
        path=path,
        base_url=base_url,
        method=method,
        query_string=query[:4000],
        headers=headers,
        data=body,
        content_type=content_type,
        environ_base={
            "REMOTE_ADDR": address
            if isinstance(address, str) and ADDRESS.fullmatch(address)
            else "0.0.0.0"
        },
    )
    try:
        environ = builder.get_environ()
    finally:
        builder.close()
    environ[RELAYED] = True
    return environ
