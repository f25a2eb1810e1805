"""The voice of a call: each ``ticket.called`` event leaves with what the displays play.

The engine knows nothing of sound. Just before the events of a commit are sent, every
``ticket.called`` (a recall too: it is said again) gets ``audio``: the chime, the clips of the
site's announcement in order, the announcement joined into one file, its text, the voice that
says it and how many times to say it. With a warm cache that is a few file look-ups (well under
a millisecond); a clip no voice has is made on the spot by espeak-ng (offline). Nothing here
touches the network, and any failure sends the event without ``audio``: a call never waits on
sound and never fails because of it. The number is on the screens either way.

When the server starts, the cache is filled in the background with espeak-ng for every site's
template if no voice has all the clips yet (a fresh ``xephang demo`` without internet speaks),
and the log says which voice will speak.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import select

from sounds import DEFAULT_TEMPLATE, ReadingOptions, SoundCache, compose, default_sounds_dir
from sounds.announce import TemplateError, opening, parse_template, vocabulary
from sounds.build import build_voice, ensure_chime
from sounds.compose import join
from sounds.status import sound_status
from sounds.voice_options import (
    DEFAULT_REPEAT,
    DEFAULT_THOUSAND,
    DEFAULT_ZERO_HUNDRED,
    REPEATS,
    THOUSANDS,
    ZERO_HUNDREDS,
)
from sounds.voices.espeak import EspeakVoice, espeak_available

from ..db import Database
from ..engine.events import SITE_UPDATED, TICKET_CALLED, Event, Publisher, no_publisher
from ..models import Site

log = logging.getLogger(__name__)

SOUNDS_URL = "/sounds/"
EXTENSION_KEY = "xephang_sounds"


@dataclass(frozen=True)
class SiteVoice:
    """How a site says its calls: its template, how it reads numbers, how often."""

    template: str = DEFAULT_TEMPLATE
    options: ReadingOptions = field(default_factory=ReadingOptions)
    repeat: int = DEFAULT_REPEAT


def site_voice(template: str | None, voice_options: dict[str, Any] | None) -> SiteVoice:
    """A site's settings as the voice uses them; a value it does not know is left at default.

    ``voice_options`` is ``Site.voice_options``, with the keys and values of
    :mod:`sounds.voice_options`.
    """
    opts = voice_options if isinstance(voice_options, dict) else {}
    chosen = template or DEFAULT_TEMPLATE
    try:
        parse_template(chosen)
    except TemplateError:
        log.warning("announcement template %r is not usable; the default is said", chosen)
        chosen = DEFAULT_TEMPLATE
    zero_hundred = opts.get("zero_hundred") if opts.get("zero_hundred") in ZERO_HUNDREDS else None
    thousand = opts.get("thousand") if opts.get("thousand") in THOUSANDS else None
    reading = ReadingOptions(
        zero_hundred=zero_hundred or DEFAULT_ZERO_HUNDRED,
        thousand=thousand or DEFAULT_THOUSAND,
        digit_by_digit=opts.get("reading") == "digits",
    )
    return SiteVoice(chosen, reading, _repeat(opts.get("repeat")))


def _repeat(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return min(max(value, REPEATS[0]), REPEATS[-1])
    return DEFAULT_REPEAT


class Announcer:
    """Builds the ``audio`` of a call from the sounds folder; knows each site's voice settings."""

    def __init__(
        self,
        cache: SoundCache,
        voice_of_site: Callable[[int], SiteVoice],
        *,
        url_prefix: str = SOUNDS_URL,
    ) -> None:
        self.cache = cache
        self.voice_of_site = voice_of_site
        self.url_prefix = url_prefix
        self.errors = 0
        self.last_error: str | None = None

    def url(self, path: Path, *, versioned: bool = True) -> str:
        """The file's URL under /sounds/; ``?v=`` changes when the file is made again."""
        url = self.url_prefix + self.cache.relative(path)
        if versioned:
            url += f"?v={path.stat().st_mtime_ns:x}"
        return url

    def audio(self, number: str, counter: str | int, voice: SiteVoice) -> dict[str, Any]:
        """What a display plays for a call: chime, then the announcement ``repeat`` times."""
        ensure_chime(self.cache)
        said = compose(
            number,
            counter,
            cache=self.cache,
            template=voice.template,
            options=voice.options,
            chime=False,
            offline_voice=EspeakVoice(),
        )
        parts = said.parts()
        joined = join(said, self.cache) if parts else None
        # Said instead when the call follows another at once (display/static/display/
        # audio-queue.js): the same clips without the template's opening phrase.
        lead = opening(voice.template)
        said_lead = tuple(clip.key for clip in said.clips[: len(lead)]) == lead
        short = replace(said, clips=said.clips[len(lead) :]) if lead and said_lead else None
        short_joined = join(short, self.cache) if short is not None and short.clips else None
        return {
            "chime": self.url(self.cache.chime_path),
            "clips": [self.url(path) for path, _ in parts],
            "pauses": [pause for _, pause in parts],
            # Named by its content: it never changes, so no version is needed.
            "joined": self.url(joined, versioned=False) if joined else None,
            "short": self.url(short_joined, versioned=False) if short_joined else None,
            "lead": len(lead) if short_joined else 0,
            "text": said.text,
            "voice": said.voice,
            "missing": list(said.missing),
            "repeat": voice.repeat,
        }

    def enrich(self, event: Event) -> Event:
        """The event with ``audio`` if it is a call; unchanged otherwise or when sound fails."""
        if event.name != TICKET_CALLED:
            return event
        try:
            ticket = event.payload["ticket"]
            counter = event.payload.get("counter") or ticket.get("counter")
            known = event.extra.get("voice")  # the site's settings, from the engine
            voice = site_voice(*known) if known else self.voice_of_site(event.site_id)
            audio = self.audio(ticket["number"], counter, voice)
        except Exception as err:  # sound must never stop a call from being shown
            self.errors += 1
            error = f"{type(err).__name__}: {err}"
            # The same trouble on every call is logged in full once, then briefly.
            report = log.warning if error == self.last_error else log.exception
            self.last_error = error
            report("no audio for the call of event seq %s: sent without it", event.seq)
            return event
        return replace(event, payload={**event.payload, "audio": audio})

    def status(self, site_id: int) -> dict[str, Any]:
        """``sounds.sound_status`` for the site's template, plus the errors of this process."""
        voice = self.voice_of_site(site_id)
        report = sound_status(self.cache, templates=(voice.template,))
        report["template"] = voice.template
        report["repeat"] = voice.repeat
        report["audio_errors"] = self.errors
        report["last_audio_error"] = self.last_error
        report["offline_fallback"] = report["voice"] in (None, "espeak")
        return report


def _new_voice(event: Event) -> bool:
    """A site's settings changed (its template may need new clips); services and counters
    changing need none."""
    return event.name == SITE_UPDATED and event.payload.get("changed") in ("settings", "site")


def announcing(
    publisher: Publisher,
    announcer: Announcer,
    settings_changed: Callable[[], None] | None = None,
) -> Publisher:
    """``publisher`` with the audio added to every call it sends.

    ``settings_changed`` runs when a site's settings change (``site.updated`` for
    settings): a new announcement template may need clips that are not made yet.
    """

    def publish(events: Sequence[Event]) -> None:
        publisher([announcer.enrich(event) for event in events])
        if settings_changed is not None and any(_new_voice(e) for e in events):
            settings_changed()

    return publish


def voice_from_database(db: Database) -> Callable[[int], SiteVoice]:
    def voice_of_site(site_id: int) -> SiteVoice:
        with db.reads() as session:
            row = session.execute(
                select(Site.announcement_template, Site.voice_options).where(Site.id == site_id)
            ).first()
        if row is None:
            return SiteVoice()
        return site_voice(row[0], row[1])

    return voice_of_site


def sounds_dir(app: Flask) -> Path:
    """``SOUNDS_DIR`` in the app's configuration, else ``XEPHANG_SOUNDS_DIR``, else instance/."""
    configured = app.config.get("SOUNDS_DIR")
    return Path(configured) if configured else default_sounds_dir(app.instance_path)


def install_announcer(app: Flask, publisher: Publisher, db: Database) -> Publisher:
    """Keep the announcer in the app (for /sounds/) and return the publisher that uses it.

    A serving app (not testing, not a command-line one) also warms the cache in the background.
    """
    announcer = Announcer(SoundCache(sounds_dir(app)), voice_from_database(db))
    app.extensions[EXTENSION_KEY] = announcer
    if publisher is no_publisher:
        return publisher
    serving = not app.testing and not app.config.get("EVENTS_WRITE_ONLY")
    if app.config.get("SOUNDS_WARM_UP", serving):
        socketio = app.extensions.get("socketio")
        start: Callable[..., Any] = (
            socketio.start_background_task if socketio is not None else _thread
        )
        start(warm_up, announcer, db)
        return announcing(publisher, announcer, lambda: start(warm_up, announcer, db))
    return announcing(publisher, announcer)


def _thread(target: Callable[..., Any], *args: Any) -> None:
    threading.Thread(target=target, args=args, name="sounds-warm-up", daemon=True).start()


def current_announcer(app: Flask) -> Announcer:
    found = app.extensions.get(EXTENSION_KEY)
    if isinstance(found, Announcer):
        return found
    return Announcer(SoundCache(sounds_dir(app)), lambda _site_id: SiteVoice())


def warm_up(announcer: Announcer, db: Database) -> None:
    """Make sure every site can be heard: espeak-ng fills what no voice has, and the log says."""
    try:
        with db.reads() as session:
            rows = session.execute(select(Site.announcement_template)).all()
        templates = sorted(
            {site_voice(row[0], None).template for row in rows} or {DEFAULT_TEMPLATE}
        )
        cache = announcer.cache
        report = sound_status(cache, templates=templates)
        if report["voice"] is not None and report["voice"] != "espeak":
            log.info("sounds: calls are said by the voice %s (%s)", report["voice"], cache.root)
            return
        if report["voice"] is None:
            log.warning(
                "sounds: no voice has every clip in %s; falling back to espeak-ng (offline). "
                "Run `xephang sounds build` (gtts, needs internet) or "
                "`xephang sounds build --voice pack:PATH` for a better voice.",
                cache.root,
            )
            if not espeak_available():
                log.warning(
                    "sounds: espeak-ng is not installed: calls are said with the clips there "
                    "are, or only chime (apt-get install espeak-ng)"
                )
                ensure_chime(cache)
                return
            built = build_voice(cache, EspeakVoice(), vocabulary(templates))
            log.info(
                "sounds: espeak-ng made %d clips (%d missing) in %s",
                len(built.made),
                len(built.missing),
                cache.root / "espeak",
            )
        else:
            ensure_chime(cache)
            log.warning(
                "sounds: calls are said by espeak-ng, the offline voice (%s). For a better voice "
                "run `xephang sounds build` with internet, or bring a clip pack.",
                cache.root,
            )
    except Exception:  # the server serves without a warm cache; a call fills what it needs
        log.exception("sounds: warming the cache failed")
