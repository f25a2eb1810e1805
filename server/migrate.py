"""Database migrations (Alembic), run from code: `xephang init` and the tests use this."""

from __future__ import annotations

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Engine

from .db import make_engine


def alembic_config(engine: Engine) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", "server:migrations")
    # configparser reads "%" as interpolation: a URL with %3A (a SQLite URI) needs it doubled.
    url = engine.url.render_as_string(hide_password=False).replace("%", "%%")
    cfg.set_main_option("sqlalchemy.url", url)
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision``; a database already there is left as it is."""
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def new_revision(message: str, database_url: str) -> None:
    """Autogenerate a migration against a database at head (a developer's tool)."""

    engine = make_engine(database_url)
    upgrade(engine)
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.revision(cfg, message=message, autogenerate=True)


if __name__ == "__main__":
    import sys
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        new_revision(" ".join(sys.argv[1:]) or "change", f"sqlite:///{tmp}/rev.sqlite3")
