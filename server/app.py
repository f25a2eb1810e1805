"""The Flask app factory."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from flask import Flask, jsonify
from flask_socketio import SocketIO

from .accounts import init_accounts
from .config import Config, default_database_url, instance_secret
from .db import Database
from .engine.events import Publisher, no_publisher
from .i18n import init_i18n
from .limits import init_limits
from .realtime import SocketPublisher, register_handlers
from .realtime.publisher import command_line_publisher
from .runtime import Runtime


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Build the app: database, Socket.IO (through Redis when configured), blueprints."""
    app = Flask("server", instance_relative_config=True)
    app.config.update(Config.from_env())
    app.config.update(overrides or {})
    if not app.config.get("DATABASE_URL"):
        app.config["DATABASE_URL"] = default_database_url(app.instance_path)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = instance_secret(app.instance_path)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    # A paired kiosk or display keeps its pairing for a year.
    app.config.setdefault("PERMANENT_SESSION_LIFETIME", timedelta(days=365))

    db = Database(app.config["DATABASE_URL"])
    runtime = Runtime(db=db, publisher=_publisher(app))
    from .realtime.announcements import install_announcer  # the voice of ticket.called events

    runtime.publisher = install_announcer(app, runtime.publisher, db)
    if "CLOCK" in app.config:
        runtime.clock = app.config["CLOCK"]
    app.extensions["xephang"] = runtime

    _register_blueprints(app)
    init_accounts(app)
    init_limits(app)
    init_i18n(app)

    @app.get("/healthz")
    def healthz() -> Any:
        return jsonify({"status": "ok"})

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    return app


def _publisher(app: Flask) -> Publisher:
    """Socket.IO for a serving app; a command-line app only publishes, through Redis if set."""
    redis_url = app.config.get("REDIS_URL")
    if app.config.get("EVENTS_WRITE_ONLY"):
        if redis_url:
            return command_line_publisher(redis_url, app.config["REDIS_CHANNEL"])
        return no_publisher
    socketio = SocketIO(
        app,
        async_mode=app.config["ASYNC_MODE"],
        message_queue=redis_url,
        channel=app.config["REDIS_CHANNEL"],
        # None: browsers may connect from this server's own origin only.
        cors_allowed_origins=app.config.get("CORS_ORIGINS"),
    )
    register_handlers(socketio)
    return SocketPublisher(socketio)


def _register_blueprints(app: Flask) -> None:
    from kiosk.pages import bp as kiosk_bp  # the touch kiosk page, under /kiosk
    from kiosk.routes import preview_bp  # the ticket PNG preview, under /api/v1

    from .accounts import bp as accounts_bp
    from .api import bp as api_bp
    from .devices import bp as devices_bp

    app.register_blueprint(accounts_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(preview_bp)
    app.register_blueprint(devices_bp)
    app.register_blueprint(kiosk_bp)

    from display import bp as display_bp  # lobby and counter displays, under /display
    from sounds.routes import bp as sounds_bp  # /sounds/<clip> and the voice's status

    app.register_blueprint(display_bp)
    app.register_blueprint(sounds_bp)

    from .tablet import bp as rate_bp  # the rating tablet at a counter, under /rate

    app.register_blueprint(rate_bp)

    from .admin import bp as admin_bp  # sites, services, counters, staff, devices: /admin
    from .workstation import bp as counter_bp  # the clerk's page, under /counter

    app.register_blueprint(admin_bp)
    app.register_blueprint(counter_bp)
