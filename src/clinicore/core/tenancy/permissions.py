"""What each console user may do: one table for the clinic's own roles and the partner's staff roles.

- A user who signs in with a password holds a console role (``ClinicUserRole``): ``admin`` may do
  everything; ``staff`` does the practice's daily work (calendar and availability, leads and campaigns,
  exams and prescriptions, patients, sending forms and reading intakes and the report). Keys (the
  retrievable Qualiphy and IntakeQ keys included), webhooks (they carry patient data), the people who
  sign in (staff, assistants, providers), form templates and the settings are the admin's.
- A staff member signed in by single sign-on holds its partner's role (``core/staff/roles.py``): the
  ``Administrator`` role may do everything, like ``admin``; another role has what its six flags grant
  (its "change settings" flag also grants the people pages, as it did before this table) plus the daily
  work the flags do not name (leads, campaigns, exams, patients). Keys and webhooks are never a
  partner role's unless it is ``Administrator``.
- A role this table does not know may do nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from clinicore.kit.errors import Forbidden


class Permission(StrEnum):
    """What a console page may require of its user."""

    # the partner roles' six flags (core/staff/roles.Permissions)
    send_forms = "send_forms"
    open_forms = "open_forms"
    edit_templates = "edit_templates"
    change_settings = "change_settings"
    book = "book"
    see_reports = "see_reports"
    # the console's other areas
    work_leads = "work_leads"
    run_campaigns = "run_campaigns"
    handle_exams = "handle_exams"
    see_patients = "see_patients"
    manage_users = "manage_users"
    manage_keys = "manage_keys"
    manage_webhooks = "manage_webhooks"


PERMISSION_WORDS: Mapping[Permission, str] = {
    Permission.send_forms: "send forms",
    Permission.open_forms: "open forms",
    Permission.edit_templates: "edit form templates",
    Permission.change_settings: "change the settings",
    Permission.book: "book appointments",
    Permission.see_reports: "see reports",
    Permission.work_leads: "work leads",
    Permission.run_campaigns: "run campaigns",
    Permission.handle_exams: "handle exams",
    Permission.see_patients: "see patients",
    Permission.manage_users: "manage the practice's users",
    Permission.manage_keys: "manage API keys",
    Permission.manage_webhooks: "manage webhooks",
}

EVERYTHING: frozenset[Permission] = frozenset(Permission)
NOTHING: frozenset[Permission] = frozenset()

# The console roles of users who sign in with a password (ClinicUserRole values).
CONSOLE_ROLES: Mapping[str, frozenset[Permission]] = {
    "admin": EVERYTHING,
    "staff": frozenset(
        {
            Permission.book,
            Permission.work_leads,
            Permission.run_campaigns,
            Permission.handle_exams,
            Permission.see_patients,
            Permission.send_forms,
            Permission.open_forms,
            Permission.see_reports,
        }
    ),
}

# A partner role's flag and what it grants in the console.
PARTNER_ROLE_FLAGS: Mapping[str, frozenset[Permission]] = {
    "send_forms": frozenset({Permission.send_forms}),
    "open_forms": frozenset({Permission.open_forms}),
    "edit_templates": frozenset({Permission.edit_templates}),
    "change_settings": frozenset({Permission.change_settings, Permission.manage_users}),
    "book": frozenset({Permission.book}),
    "see_reports": frozenset({Permission.see_reports}),
}
# What every partner role may do besides its flags: the daily work the flags do not name.
PARTNER_ROLE_BASELINE: frozenset[Permission] = frozenset(
    {Permission.work_leads, Permission.run_campaigns, Permission.handle_exams, Permission.see_patients}
)


def of_console_role(role: str) -> frozenset[Permission]:
    """A password user's permissions: its console role's (an unknown role: nothing)."""
    return CONSOLE_ROLES.get(role, NOTHING)


def of_partner_role(flags: Mapping[str, bool], *, administrator: bool) -> frozenset[Permission]:
    """A single sign-on user's permissions: everything for ``Administrator``, else what its flags grant
    plus the baseline."""
    if administrator:
        return EVERYTHING
    granted = set(PARTNER_ROLE_BASELINE)
    for flag, permissions in PARTNER_ROLE_FLAGS.items():
        if flags.get(flag, False):
            granted |= permissions
    return frozenset(granted)


def check(granted: frozenset[Permission], permission: Permission) -> None:
    """The one permission check: ``Forbidden`` (a 403 page) when ``permission`` is not granted."""
    if permission not in granted:
        raise Forbidden(f"Your role may not {PERMISSION_WORDS[permission]}.")
