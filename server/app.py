"""The Flask app factory."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from flask import Flask, jsonify, request, send_from_directory
from flask_socketio import SocketIO
from sqlalchemy.exc import DBAPIError
from werkzeug.routing import IntegerConverter

from display import bp as display_bp
from phone import bp as phone_bp

from .accounts import bp as accounts_bp
from .accounts import init_accounts
from .admin import bp as admin_bp
from .api import bp as api_bp
from .api.schemas import DB_INT_MAX
from .config import Config, default_database_url, instance_secret
from .db import RETRY_WITH_KEY, Database, commits_sent, is_disconnect
from .devices import bp as devices_bp
from .engine.events import no_publisher
from .errors import init_errors
from .home import init_home
from .hub import bp as hub_bp
from .hub.pages import bp as province_bp
from .hub.relay import pages as relay_bp
from .i18n import init_i18n
from .kiosk_pages.pages import bp as kiosk_bp
from .kiosk_pages.routes import preview_bp
from .limits import init_limits
from .messages import error_text
from .realtime import SocketPublisher, register_handlers
from .realtime.announcements import install_announcer
from .realtime.cutoff import CutOffManager, CutOffRedisManager
from .realtime.flow import SYNC_INTERVAL_S, ConnectionFlow
from .realtime.publisher import command_line_socketio
from .runtime import Runtime
from .security_headers import init_security_headers
from .sound_routes import bp as sounds_bp
from .storage import StorageWatch, probe, reason_text
from .sync.banner import init_banner
from .tablet import bp as tablet_bp
from .workstation import bp as counter_bp

FAVICON_MAX_AGE_S = 7 * 24 * 3600

log = logging.getLogger(__name__)


class DatabaseInt(IntegerConverter):
    """``<int:…>`` in every route stops at the 32-bit id columns: a larger number is a 404."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", DB_INT_MAX)
        super().__init__(map, *args, **kwargs)


class XephangFlask(Flask):
    def dispatch_request(self) -> Any:
        """Run the view again, once, when the database connection dropped under it.

        Only when nothing can have been committed yet (no COMMIT was sent during
        this request), or when the request's Idempotency-Key makes a second run
        answer what the first one committed. Never a third time: a database
        still gone answers 503 (``server.errors``).
        """
        commits = commits_sent()
        try:
            return super().dispatch_request()
        except DBAPIError as err:
            if not is_disconnect(err) or not self._may_run_again(commits):
                raise
            log.warning(
                "database connection lost during %s %s; running it again",
                request.method,
                request.path,
            )
        return super().dispatch_request()

    def _may_run_again(self, commits_before: int) -> bool:
        if commits_sent() == commits_before:
            return True
        view = self.view_functions.get(request.endpoint or "")
        return bool(getattr(view, RETRY_WITH_KEY, False)) and bool(
            request.headers.get("Idempotency-Key")
        )


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Build the app: database, Socket.IO (through Redis when configured), blueprints."""
    app = XephangFlask("server", instance_relative_config=True)
    app.url_map.converters["int"] = DatabaseInt
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
    socketio = _socketio(app)
    publisher = SocketPublisher(socketio) if socketio is not None else no_publisher
    runtime = Runtime(db=db, publisher=publisher, socketio=socketio)

    runtime.publisher = install_announcer(app, runtime.publisher, db)
    if "CLOCK" in app.config:
        runtime.clock = app.config["CLOCK"]
    app.extensions["xephang"] = runtime

    watch = StorageWatch()
    init_errors(app, watch)  # first: its check of the request's text runs before any other
    _register_blueprints(app)
    init_home(app)
    init_accounts(app)
    init_limits(app)
    init_i18n(app)
    _serve_favicon(app)
    init_security_headers(app)

    @app.get("/healthz")
    def healthz() -> Any:
        """200 while the database takes writes; 503 and the reason when it cannot."""
        kind = probe(db, watch) or watch.recent()
        if kind is None:
            return jsonify({"status": "ok"})
        detail = error_text("storage_unavailable", {"reason": reason_text(kind)})
        return jsonify({"status": "unavailable", "storage": kind, "detail": detail}), 503

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    return app


def _serve_favicon(app: Flask) -> None:
    """Every page links server/static/favicon.svg (base.html); /favicon.ico is for the rest
    (a JSON answer, an old browser): the same drawing at 16, 32 and 48 px."""

    @app.get("/favicon.ico")
    def favicon() -> Any:
        assert app.static_folder is not None
        return send_from_directory(
            app.static_folder, "favicon.ico", mimetype="image/x-icon", max_age=FAVICON_MAX_AGE_S
        )


def _socketio(app: Flask) -> SocketIO | None:
    """Socket.IO for a serving app; a command-line app only publishes, through Redis if set."""
    redis_url = app.config.get("REDIS_URL")
    channel = app.config["REDIS_CHANNEL"]
    if app.config.get("EVENTS_WRITE_ONLY"):
        return command_line_socketio(redis_url, channel) if redis_url else None
    # Managers that disconnect a revoked token's or an ended login's clients (realtime.cutoff).
    manager = CutOffRedisManager(redis_url, channel=channel) if redis_url else CutOffManager()
    socketio = SocketIO(
        app,
        async_mode=app.config["ASYNC_MODE"],
        client_manager=manager,
        # None: browsers may connect from this server's own origin only.
        cors_allowed_origins=app.config.get("CORS_ORIGINS"),
    )
    flow = ConnectionFlow(sync_interval=float(app.config.get("SYNC_INTERVAL_S", SYNC_INTERVAL_S)))
    register_handlers(socketio, flow)
    return socketio


def _register_blueprints(app: Flask) -> None:
    app.register_blueprint(accounts_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(preview_bp)  # the ticket PNG preview, under /api/v1
    app.register_blueprint(devices_bp)
    app.register_blueprint(kiosk_bp)  # the touch kiosk page, under /kiosk
    app.register_blueprint(display_bp)  # lobby and counter displays, under /display
    app.register_blueprint(sounds_bp)  # /sounds/<clip> and the voice's status
    app.register_blueprint(tablet_bp)  # the rating tablet at a counter, under /rate
    app.register_blueprint(admin_bp)  # sites, services, counters, staff, devices: /admin
    app.register_blueprint(counter_bp)  # the clerk's page, under /counter
    app.register_blueprint(phone_bp)  # the citizen's phone: /t/<token> and /s/<site>
    app.register_blueprint(hub_bp)  # sites' batches and join codes: /api/v1/hub (a hub only)
    app.register_blueprint(province_bp)  # the province dashboard: /province (a hub only)
    app.register_blueprint(relay_bp)  # a site's phone pages through the hub: /r (a hub only)
    init_banner(app)  # staff pages: "no line to the province hub"
