"""Alembic migrations: from an empty database to head and back, on SQLite and PostgreSQL.

The migrations, not ``create_all``, are what a site's database is made of, so
they must build exactly the schema the models describe.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from server.db import make_engine
from server.migrate import alembic_config, upgrade
from server.models import Base, Site

from ..services import PG_ADMIN_URL, require_postgres

TABLES = set(Base.metadata.tables)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An engine on a database with nothing in it, not even Alembic's table."""
    if request.param == "sqlite":
        eng = make_engine(f"sqlite:///{tmp_path / 'migrate.sqlite3'}")
        yield eng
        eng.dispose()
        return
    require_postgres()
    name = f"xephang_m_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        eng = make_engine(
            make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
        )
        yield eng
        eng.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _head(engine: Engine) -> str:
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    assert head is not None
    return head


def _current(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def _downgrade(engine: Engine, revision: str) -> None:
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def _differences(engine: Engine) -> list[Any]:
    """What autogenerate would put in a new migration: nothing, if models and schema agree."""
    with engine.connect() as conn:
        opts = {"compare_type": True, "compare_server_default": True}
        context = MigrationContext.configure(conn, opts=opts)
        return list(compare_metadata(context, Base.metadata))


def _tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def _schema(engine: Engine) -> dict[str, Any]:
    """Everything the inspector knows of the schema, in a form that compares."""
    insp = inspect(engine)

    def clean(items: list[dict[str, Any]]) -> list[str]:
        return sorted(repr(sorted(item.items(), key=lambda kv: kv[0])) for item in items)

    schema: dict[str, Any] = {}
    for table in sorted(insp.get_table_names()):
        columns = [{**col, "type": repr(col["type"])} for col in insp.get_columns(table)]
        schema[table] = {
            "columns": clean(columns),
            "pk": insp.get_pk_constraint(table),
            "fks": clean(insp.get_foreign_keys(table)),
            "indexes": clean(insp.get_indexes(table)),
            "uniques": clean(insp.get_unique_constraints(table)),
        }
    return schema


def test_one_linear_history() -> None:
    script = ScriptDirectory.from_config(alembic_config(make_engine("sqlite://")))
    assert len(script.get_heads()) == 1
    assert len(script.get_bases()) == 1


def test_upgrade_from_empty_gives_the_models_schema(engine: Engine) -> None:
    assert _tables(engine) == set()

    upgrade(engine)

    assert _current(engine) == _head(engine)
    assert _tables(engine) == TABLES | {"alembic_version"}
    assert _differences(engine) == []


def test_downgrade_to_base_then_upgrade_again(engine: Engine) -> None:
    upgrade(engine)

    _downgrade(engine, "base")
    assert _current(engine) is None
    assert _tables(engine) == {"alembic_version"}

    upgrade(engine)
    assert _current(engine) == _head(engine)
    assert _tables(engine) == TABLES | {"alembic_version"}
    assert _differences(engine) == []


def test_upgrade_twice_changes_nothing(engine: Engine) -> None:
    upgrade(engine)
    with Session(engine) as session:
        session.add(Site(code="s1", name="Một cửa", header_lines=["UBND"]))
        session.commit()
    before = _schema(engine)

    upgrade(engine)

    assert _current(engine) == _head(engine)
    assert _schema(engine) == before
    with Session(engine) as session:
        assert session.execute(select(Site.code)).scalars().all() == ["s1"]


def _insert_row(conn: Any, table_name: str, **values: Any) -> int:
    """A row written with the schema as it is (older than the models), the models'
    plain defaults filling what ``values`` leave out."""
    from sqlalchemy import MetaData, Table, insert

    table = Table(table_name, MetaData(), autoload_with=conn)
    model = Base.metadata.tables[table_name].columns
    for col in table.columns:
        default = model[col.name].default if col.name in model else None
        if col.name not in values and default is not None:
            values[col.name] = default.arg if default.is_scalar else default.arg(None)
    return int(conn.execute(insert(table).values(values).returning(table.c.id)).scalar())


def test_sites_with_rows_migrate_and_one_joined_keeps_sending(engine: Engine) -> None:
    """From 0009 with sites that rows refer to (SQLite copied the sites table in 0010
    before, which its foreign keys refused), and 0012 turns the outbox on for the sites
    with a hub link, and for no other."""
    from datetime import UTC, datetime

    from sqlalchemy import MetaData, Table, insert

    upgrade(engine)
    _downgrade(engine, "0009")
    ids = {}
    with engine.begin() as conn:
        for code in ("joined", "alone"):
            ids[code] = _insert_row(conn, "sites", code=code, name=code)
            _insert_row(conn, "services", site_id=ids[code], code="A", name="A")
    upgrade(engine, "0011")
    with engine.begin() as conn:
        links = Table("hub_links", MetaData(), autoload_with=conn)
        conn.execute(
            insert(links).values(
                site_id=ids["joined"],
                hub_url="https://hub.test",
                credential="x",
                managed="local",
                acked_seq=0,
                joined_at=datetime.now(UTC),
            )
        )
    upgrade(engine)
    with Session(engine) as session:
        sending = {code: on for code, on in session.execute(select(Site.code, Site.sends_to_hub))}
    assert sending == {"joined": True, "alone": False}
