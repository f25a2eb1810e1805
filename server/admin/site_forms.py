"""The forms of the site, service and counter pages: they read what was typed, nothing more.

WTForms turns the text into numbers and lists and keeps what was typed for a
re-shown form; the rules (and their messages) are in :mod:`.site_setup`,
:mod:`.service_setup` and :mod:`.counter_setup`. CSRF is
checked for every form of the app (``server.accounts.security``), so the forms
here do not add a second token.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext, lazy_gettext
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    IntegerField,
    RadioField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Optional
from wtforms.widgets import CheckboxInput, HiddenInput, ListWidget

from sounds.voice_options import READINGS, REPEATS, THOUSANDS, ZERO_HUNDREDS

from ..engine.rules import (
    CHECK_IN,
    DIRECT,
    INTERLEAVE,
    STRICT,
    UNSTARTED_NO_SHOW,
    UNSTARTED_REQUEUE,
)
from ..timeutil import DEFAULT_TIMEZONE
from .counter_setup import CounterData
from .service_setup import WEEKDAYS, OpeningSession, ServiceData
from .setup_checks import Problem
from .site_setup import NewSite, SiteSettings, split_lines

# WTForms' own messages, in Vietnamese (the message ids of the admin's catalog).
_WTFORMS_VI = {
    "This field is required.": "Không được để trống.",
    "Not a valid integer value.": "Hãy nhập một số nguyên.",
    "Not a valid choice.": "Hãy chọn một trong các giá trị có sẵn.",
    "Invalid Choice: could not coerce.": "Hãy chọn một trong các giá trị có sẵn.",
    "Invalid choice(s): one or more data inputs could not be coerced.": (
        "Hãy chọn một trong các giá trị có sẵn."
    ),
}
_INVALID = "Giá trị không hợp lệ."


class _Vietnamese:
    def gettext(self, message: str) -> str:
        return gettext(_WTFORMS_VI.get(message, _INVALID))

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.gettext(singular if n == 1 else plural)


class _Meta:
    csrf = False  # checked once for the whole app, before the view runs

    def get_translations(self, form: Any) -> _Vietnamese:
        return _Vietnamese()


class _Form(FlaskForm):
    class Meta(_Meta):
        pass


class _Row(Form):
    class Meta(_Meta):
        pass


def _options(pairs: Any) -> list[SelectChoice]:
    """Choices whose Vietnamese labels are translated when the page is drawn."""
    return [SelectChoice(value, lazy_gettext(label)) for value, label in pairs]


def _required() -> list[Any]:
    return [InputRequired()]


def _optional() -> list[Any]:
    return [Optional()]


def _or(value: int | None, default: int) -> int:
    return default if value is None else value


class _CheckboxList(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def flat_errors(form: Any) -> dict[str, str]:
    """The first message of each field, lists flattened to ``name-index``."""
    errors: dict[str, str] = {}
    for name, messages in form.errors.items():
        if isinstance(messages, list) and messages and isinstance(messages[0], str):
            errors[name] = messages[0]
        elif isinstance(messages, list):  # a FieldList: one dict (or list) per row
            for i, row in enumerate(messages):
                if row:
                    first = next(iter(row.values())) if isinstance(row, dict) else row
                    errors[f"{name}-{i}"] = first[0] if isinstance(first, list) else str(first)
    return errors


def translated(errors: dict[str, Problem]) -> dict[str, str]:
    return {key: gettext(p.message, **p.params) for key, p in errors.items()}


# --- sites ---------------------------------------------------------------------------------


class NewSiteForm(_Form):
    code = StringField(validators=_required())
    name = StringField(validators=_required())
    timezone = StringField(default=DEFAULT_TIMEZONE, validators=_required())

    def data_(self) -> NewSite:
        return NewSite(self.code.data or "", self.name.data or "", self.timezone.data or "")


class SettingsForm(_Form):
    name = StringField(validators=_required())
    timezone = StringField(validators=_required())
    header_lines = TextAreaField()
    ticket_footer = TextAreaField()
    announcement_template = StringField()
    reading = RadioField(
        choices=_options(zip(READINGS, ("Đọc thành lời", "Đọc từng chữ số"), strict=True))
    )
    # Their labels are the words and numbers themselves: nothing to translate.
    zero_hundred = RadioField(choices=[SelectChoice(word, word) for word in ZERO_HUNDREDS])
    thousand = RadioField(choices=[SelectChoice(word, word) for word in THOUSANDS])
    repeat = RadioField(coerce=int, choices=[SelectChoice(n, str(n)) for n in REPEATS])
    priority_policy = RadioField(
        choices=_options(
            [
                (STRICT, "Luôn gọi trước"),
                (INTERLEAVE, "Xen kẽ: một số ưu tiên sau mỗi N số thường"),
            ]
        )
    )
    priority_every = IntegerField(validators=_required())
    rating_scale = RadioField(
        coerce=int, choices=_options([(3, "3 mức"), (4, "4 mức"), (5, "5 mức")])
    )
    wait_target_min = IntegerField(validators=_required())
    # Left out of a form (an older script, say): the defaults, as for a new site.
    soon_threshold = IntegerField(validators=_optional())
    phone_rating = BooleanField()
    remote_enabled = BooleanField()
    remote_arrival = RadioField(
        choices=_options(
            [
                (CHECK_IN, "Chờ công dân xác nhận đã đến tại máy lấy số, rồi mới vào hàng chờ"),
                (DIRECT, "Vào hàng chờ ngay, được gọi như số lấy tại chỗ"),
            ]
        ),
        validate_choice=False,  # site_setup checks it; left out means the default
    )
    remote_per_phone = IntegerField(validators=_optional())
    phone_retention_days = IntegerField(validators=_optional())
    unstarted_on_next = RadioField(
        choices=_options(
            [
                (UNSTARTED_NO_SHOW, "Ghi vắng mặt (có thể đưa vào lại hàng chờ sau)"),
                (UNSTARTED_REQUEUE, "Đưa vào lại đầu hàng chờ"),
            ]
        ),
        validate_choice=False,  # site_setup checks it; left out means the default
    )

    def load(self, settings: SiteSettings) -> None:
        self.process(
            data={
                **settings.__dict__,
                "header_lines": "\n".join(settings.header_lines),
            }
        )

    def data_(self) -> SiteSettings:
        return SiteSettings(
            name=self.name.data or "",
            timezone=self.timezone.data or "",
            header_lines=split_lines(self.header_lines.data or ""),
            ticket_footer=self.ticket_footer.data or "",
            announcement_template=self.announcement_template.data or "",
            reading=self.reading.data or "",
            zero_hundred=self.zero_hundred.data or "",
            thousand=self.thousand.data or "",
            repeat=self.repeat.data or 0,
            priority_policy=self.priority_policy.data or "",
            priority_every=self.priority_every.data or 0,
            rating_scale=self.rating_scale.data or 0,
            wait_target_min=self.wait_target_min.data or 0,
            soon_threshold=_or(self.soon_threshold.data, SiteSettings.soon_threshold),
            phone_rating=bool(self.phone_rating.data),
            remote_enabled=bool(self.remote_enabled.data),
            remote_arrival=self.remote_arrival.data or SiteSettings.remote_arrival,
            remote_per_phone=_or(self.remote_per_phone.data, SiteSettings.remote_per_phone),
            phone_retention_days=_or(
                self.phone_retention_days.data, SiteSettings.phone_retention_days
            ),
            unstarted_on_next=self.unstarted_on_next.data or SiteSettings.unstarted_on_next,
        )


# --- services ------------------------------------------------------------------------------

EMPTY_SESSION_ROWS = 2


class SessionRow(_Row):
    days = _CheckboxList(
        coerce=int, choices=_options(list(WEEKDAYS.items())), validate_choice=False
    )
    start = StringField()
    end = StringField()

    def blank(self) -> bool:
        return not (self.days.data or (self.start.data or "").strip() or self.end.data)


class ServiceForm(_Form):
    code = StringField(validators=_required())
    name = StringField(validators=_required())
    hint = StringField()
    number_prefix = StringField()
    number_width = IntegerField(default=3, validators=_required())
    range_start = IntegerField(validators=_optional())
    range_end = IntegerField(validators=_optional())
    daily_cap = IntegerField(validators=_optional())
    sessions = FieldList(FormField(SessionRow), min_entries=EMPTY_SESSION_ROWS)
    active = BooleanField(default=True)
    sort_order = IntegerField(default=0, validators=_required())
    service_minutes = IntegerField(default=5, validators=_required())
    remote_enabled = BooleanField(default=False)
    remote_share = IntegerField(default=ServiceData.remote_share, validators=_optional())

    def load(self, data: ServiceData) -> None:
        values = dict(data.__dict__)
        values["sessions"] = [
            {"days": row.days, "start": row.start, "end": row.end} for row in data.sessions
        ]
        self.process(data=values)
        self.add_blank_rows()

    def add_blank_rows(self) -> None:
        while sum(1 for row in self.sessions if row.form.blank()) < EMPTY_SESSION_ROWS:
            self.sessions.append_entry()

    def data_(self) -> tuple[ServiceData, list[int]]:
        """The service as typed, and for each session kept the index of its row on the form."""
        rows, where = [], []
        for i, row in enumerate(self.sessions):
            if row.form.blank():
                continue
            rows.append(
                OpeningSession(
                    (row.form.start.data or "").strip(),
                    (row.form.end.data or "").strip(),
                    list(row.form.days.data or []),
                )
            )
            where.append(i)
        data = ServiceData(
            code=self.code.data or "",
            name=self.name.data or "",
            hint=self.hint.data or "",
            number_prefix=self.number_prefix.data or "",
            number_width=self.number_width.data or 0,
            range_start=self.range_start.data,
            range_end=self.range_end.data,
            daily_cap=self.daily_cap.data,
            sessions=rows,
            active=bool(self.active.data),
            sort_order=self.sort_order.data or 0,
            service_minutes=self.service_minutes.data or 0,
            remote_enabled=bool(self.remote_enabled.data),
            remote_share=_or(self.remote_share.data, ServiceData.remote_share),
        )
        return data, where


def session_errors_on_form(errors: dict[str, str], where: list[int]) -> dict[str, str]:
    """Messages about the n-th kept session, moved to the row it was typed on."""
    moved = {}
    for key, message in errors.items():
        head, _, index = key.partition("-")
        if head == "sessions" and index.isdigit() and int(index) < len(where):
            moved[f"sessions-{where[int(index)]}"] = message
        else:
            moved[key] = message
    return moved


# --- counters ------------------------------------------------------------------------------


class ServiceLink(_Row):
    service_id = IntegerField(widget=HiddenInput())
    serves = BooleanField()
    weight = IntegerField(validators=_optional())


class CounterForm(_Form):
    number = IntegerField(validators=_required())
    name = StringField()
    active = BooleanField(default=True)
    services = FieldList(FormField(ServiceLink))

    def load(self, data: CounterData, service_ids: list[int]) -> None:
        self.process(
            data={
                "number": data.number,
                "name": data.name,
                "active": data.active,
                "services": [
                    {
                        "service_id": sid,
                        "serves": sid in data.weights,
                        "weight": data.weights.get(sid, 1),
                    }
                    for sid in service_ids
                ],
            }
        )

    def data_(self) -> CounterData:
        weights = {}
        for row in self.services:
            sid = row.form.service_id.data
            if sid is not None and row.form.serves.data:
                weight = row.form.weight.data
                weights[sid] = weight if weight is not None else 1
        return CounterData(
            number=self.number.data,
            name=self.name.data or "",
            active=bool(self.active.data),
            weights=weights,
        )

    def type_errors(self) -> dict[str, str]:
        """What could not be read; a weight only counts for a service ticked as served.

        Weights are keyed as the rules key theirs: ``weight-<service id>``.
        """
        errors = {k: v for k, v in flat_errors(self).items() if not k.startswith("services")}
        for row in self.services:
            if row.form.serves.data and row.form.weight.errors:
                errors[f"weight-{row.form.service_id.data}"] = row.form.weight.errors[0]
        return errors
