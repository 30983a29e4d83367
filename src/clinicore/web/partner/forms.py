"""The partner console's forms, one model each, as ``web/console/forms.submit_form`` reads them.

Every field is bounded; the values are checked by the core (``core/partners/brand.py``,
``core/staff/roles.py``), a form only reads. A list (host names, origins) is typed one item a line (commas
and spaces separate items too). A checkbox is on when it is posted at all.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import StringConstraints

from clinicore.core.partners.brand import BrandSettings
from clinicore.core.staff.roles import MAX_ROLE_NAME, Permissions
from clinicore.web.console.forms import ConsoleForm

LIST_LENGTH = 12_000  # 20 origins of 500 characters and their separators, with room to spare
_SEPARATORS = re.compile(r"[\s,]+")
PERMISSION_LABELS = {
    "send_forms": "Send forms",
    "open_forms": "Open forms",
    "edit_templates": "Edit templates",
    "change_settings": "Settings",
    "book": "Booking",
    "see_reports": "Reports",
}

Url = Annotated[str, StringConstraints(max_length=1000)]
Listed = Annotated[str, StringConstraints(max_length=LIST_LENGTH)]
Checkbox = Annotated[str, StringConstraints(max_length=10)]


def split_list(text: str) -> list[str]:
    return [item for item in _SEPARATORS.split(text) if item]


class BrandForm(ConsoleForm):
    brand_name: Annotated[str, StringConstraints(max_length=1000)] = ""
    logo_url: Url = ""
    color: Annotated[str, StringConstraints(max_length=20)] = ""
    accent_color: Annotated[str, StringConstraints(max_length=20)] = ""
    host_names: Listed = ""
    allowed_redirect_hosts: Listed = ""
    frame_origins: Listed = ""
    form_notification_url: Url = ""

    def settings(self) -> BrandSettings:
        return BrandSettings(
            brand_name=self.brand_name,
            logo_url=self.logo_url,
            color=self.color,
            accent_color=self.accent_color,
            host_names=split_list(self.host_names),
            allowed_redirect_hosts=split_list(self.allowed_redirect_hosts),
            frame_origins=split_list(self.frame_origins),
            form_notification_url=self.form_notification_url,
        )


class RoleForm(ConsoleForm):
    """A role's name and its six permissions (checkboxes)."""

    role_name: Annotated[str, StringConstraints(max_length=MAX_ROLE_NAME * 2)] = ""
    send_forms: Checkbox = ""
    open_forms: Checkbox = ""
    edit_templates: Checkbox = ""
    change_settings: Checkbox = ""
    book: Checkbox = ""
    see_reports: Checkbox = ""

    def permissions(self) -> Permissions:
        return Permissions(
            send_forms=bool(self.send_forms),
            open_forms=bool(self.open_forms),
            edit_templates=bool(self.edit_templates),
            change_settings=bool(self.change_settings),
            book=bool(self.book),
            see_reports=bool(self.see_reports),
        )


class RoleNameForm(ConsoleForm):
    role_name: Annotated[str, StringConstraints(max_length=MAX_ROLE_NAME * 2)] = ""


class ArchiveForm(ConsoleForm):
    archived: Annotated[str, StringConstraints(max_length=10)] = ""
