"""The forms of the staff, device and audit pages (WTForms through Flask-WTF).

The forms only carry and lay out the fields; the rules (who may make what, the
last admin, a counter for a tablet) live in the services they are handed to.
CSRF is checked for every form by the app (``accounts.security``), so the forms
do not check it again.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    widgets,
)
from wtforms.validators import Length

from ..accounts.services import MAX_FULL_NAME, MAX_PHOTO_URL

ROLE_LABELS = {"admin": _l("Quản trị viên"), "manager": _l("Người quản lý"), "clerk": _l("Cán bộ")}
DEVICE_ROLE_LABELS = {
    "kiosk": _l("Máy lấy số (kiosk)"),
    "display": _l("Màn hình hiển thị"),
    "tablet": _l("Máy đánh giá tại quầy"),
    "clerk": _l("Bàn phím gọi số của quầy"),
}


class _Form(FlaskForm):
    class Meta:
        csrf = False  # checked for every POST before the view runs


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class AccountForm(_Form):
    full_name = StringField(
        _l("Họ và tên"),
        validators=[Length(max=MAX_FULL_NAME, message=_l("Họ và tên quá dài."))],
    )
    # Choices are checked by the service, which says in Vietnamese what is wrong.
    role = SelectField(_l("Vai trò"), validate_choice=False)
    sites = MultiCheckboxField(_l("Đơn vị"), validate_choice=False)
    photo_url = StringField(
        _l("Ảnh (địa chỉ)"),
        validators=[Length(max=MAX_PHOTO_URL, message=_l("Địa chỉ ảnh quá dài."))],
    )


class NewAccountForm(AccountForm):
    username = StringField(_l("Tên đăng nhập"))
    password = PasswordField(_l("Mật khẩu ban đầu"))


class EditAccountForm(AccountForm):
    active = BooleanField(_l("Đang hoạt động (được đăng nhập)"))


class DeviceCodeForm(_Form):
    role = SelectField(_l("Loại thiết bị"), validate_choice=False)
    counter = StringField(_l("Quầy số"))
    label = StringField(
        _l("Tên gọi"), validators=[Length(max=120, message=_l("Tên gọi tối đa 120 ký tự."))]
    )
    printer = StringField(_l("Máy in (chỉ kiosk)"))
    paper = SelectField(_l("Khổ giấy (chỉ kiosk)"), validate_choice=False)


def role_choices(editor_role: str) -> list[tuple[str, Any]]:
    roles = ("admin", "manager", "clerk") if editor_role == "admin" else ("clerk",)
    return [(role, ROLE_LABELS[role]) for role in roles]


def device_role_choices() -> list[tuple[str, Any]]:
    return list(DEVICE_ROLE_LABELS.items())


def paper_choices() -> list[tuple[str, Any]]:
    return [("", _l("Mặc định (80 mm)")), ("80", "80 mm"), ("58", "58 mm")]
