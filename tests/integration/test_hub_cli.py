"""`xephang hub …` at the hub and at a site (in process; the process test runs the real ones)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from server.cli import cli
from server.db import Database
from server.migrate import upgrade
from server.models import HubLink, HubSite, Site


@pytest.fixture
def run(tmp_path: Path) -> Any:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    db = Database(url)
    upgrade(db.engine)
    db.dispose()
    env = {"XEPHANG_DATABASE_URL": url, "XEPHANG_SECRET_KEY": "cli-test", "XEPHANG_REDIS_URL": ""}

    def invoke(*args: str) -> Any:
        return CliRunner(env=env).invoke(cli, list(args))

    invoke.url = url  # type: ignore[attr-defined]
    return invoke


def test_hub_code_registers_the_site_and_prints_a_one_time_code(run):
    done = run("hub", "code", "--site", "xa-an-binh", "--name", "UBND xã An Bình")
    assert done.exit_code == 0, done.output
    code = done.stdout.strip().splitlines()[0]
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}", code)
    again = run("hub", "code", "--site", "xa-an-binh").stdout.strip().splitlines()[0]
    assert again != code  # a new code; the first one no longer works
    db = Database(run.url)
    with db.reads() as s:
        site = s.scalars(select(Site).where(Site.code == "xa-an-binh")).one()
        assert site.name == "UBND xã An Bình"
        assert s.get(HubSite, site.id).join_code_hash is not None
    db.dispose()


def test_hub_status_before_and_after_a_join(run):
    done = run("hub", "status")
    assert done.exit_code == 0 and "chưa tham gia" in done.output
    db = Database(run.url)
    with db.writes() as s:
        site = Site(code="xa-b", name="UBND xã B", outbox_seq=42)
        s.add(site)
        s.flush()
        from datetime import UTC, datetime

        s.add(
            HubLink(
                site_id=site.id,
                hub_url="https://hub.test",
                credential="x",
                managed="local",
                acked_seq=40,
                joined_at=datetime.now(UTC),
            )
        )
        s.commit()
    db.dispose()
    out = run("hub", "status").output
    assert "đã nhận đến số: 40" in out and "còn chờ gửi: 2" in out


def test_hub_join_says_why_it_failed(run):
    done = run("hub", "join", "--hub", "http://127.0.0.1:9", "--code", "AAAA-BBBB-CCCC")
    assert done.exit_code == 2
    assert "Không kết nối được trung tâm tỉnh" in done.output


def test_hub_revoke_of_an_unknown_site(run):
    done = run("hub", "revoke", "--site", "nope")
    assert done.exit_code == 2 and "nope" in done.output
