"""A value the admin, the voice, the displays and the kiosk all use is written once.

Where a copy cannot be avoided (the kiosk device library imports nothing of the server),
these tests catch the two drifting apart; elsewhere they catch a list written out again.
"""

from __future__ import annotations

import pytest

from display.options import parse_options
from kiosk import ticket
from server.admin.site_forms import NewSiteForm, SettingsForm
from server.admin.site_setup import SiteSettings
from server.engine.rules import PRIORITY_POLICIES, STRICT
from server.models import Site
from server.realtime.announcements import SiteVoice, site_voice
from server.timeutil import DEFAULT_TIMEZONE
from sounds import voice_options
from sounds.vietnamese import ReadingOptions


def _choices(field: object) -> list[object]:
    """The values of a form's radio buttons."""
    return [choice.value for choice in field.kwargs["choices"]]  # type: ignore[attr-defined]


def test_every_repeat_the_admin_offers_is_said_that_often_and_no_other() -> None:
    assert _choices(SettingsForm.repeat) == list(voice_options.REPEATS)
    for times in voice_options.REPEATS:
        assert site_voice(None, {"repeat": times}).repeat == times
        assert parse_options({"repeat": str(times)}, env={}).repeat == times
    beyond = voice_options.REPEATS[-1] + 1
    assert site_voice(None, {"repeat": beyond}).repeat == voice_options.REPEATS[-1]
    assert parse_options({"repeat": str(beyond)}, env={}).repeat is None


def test_the_admin_offers_the_readings_the_voice_knows() -> None:
    assert _choices(SettingsForm.reading) == list(voice_options.READINGS)
    assert _choices(SettingsForm.zero_hundred) == list(voice_options.ZERO_HUNDREDS)
    assert _choices(SettingsForm.thousand) == list(voice_options.THOUSANDS)
    for word in voice_options.ZERO_HUNDREDS:
        assert site_voice(None, {"zero_hundred": word}).options.zero_hundred == word
    for word in voice_options.THOUSANDS:
        assert site_voice(None, {"thousand": word}).options.thousand == word


def test_a_new_site_and_the_voice_start_from_the_same_defaults() -> None:
    settings, voice = SiteSettings("", "", [], "", ""), SiteVoice()
    assert settings.repeat == voice.repeat == voice_options.DEFAULT_REPEAT
    assert (settings.zero_hundred, settings.thousand) == (
        ReadingOptions().zero_hundred,
        ReadingOptions().thousand,
    )
    assert settings.reading == voice_options.DEFAULT_READING
    assert settings.priority_policy == STRICT == Site.priority_policy.default.arg


def test_the_admin_offers_the_priority_policies_the_engine_orders_by() -> None:
    assert _choices(SettingsForm.priority_policy) == list(PRIORITY_POLICIES)


@pytest.mark.parametrize(
    "default",
    [
        ticket.DEFAULT_TIMEZONE,  # the kiosk device library's own (it imports no server)
        ticket.TicketSlip("A001", "Hộ tịch", issued_at=None).timezone,  # type: ignore[arg-type]
        Site.timezone.default.arg,
        NewSiteForm.timezone.kwargs["default"],
    ],
)
def test_every_default_time_zone_is_the_servers(default: str) -> None:
    assert default == DEFAULT_TIMEZONE
