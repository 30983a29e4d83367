"""A partner's white-label settings, as its partner console changes them.

What is checked, so that every value can go straight into a page, a header or a link:
- ``brand_name`` up to 200 characters (blank: none, the partner's own name is shown).
- ``logo_url`` an ``https://`` URL with a host, no credentials, no spaces, up to 500 characters: a logo
  served over plain http would make every form page mixed content.
- ``color`` and ``accent_color`` ``#rrggbb`` (stored lower-case; blank: Clinicore's colours).
- ``host_names`` (the hosts the partner serves Clinicore under; the first is where links point) and
  ``allowed_redirect_hosts`` (where a filled form may send the browser): DNS names (letters, digits,
  hyphens, 1-63 characters a label, 253 in all) or IP addresses, lower-cased, a trailing dot dropped,
  duplicates dropped, at most 20 each. A host name has no port and no IPv6 address (links are built as
  ``scheme://host``); a redirect host may be an IPv6 address. A host name served by another partner is
  refused: a host dresses one partner's practices only.
- ``frame_origins`` (the parents that may embed the console, ``Content-Security-Policy:
  frame-ancestors``): exact origins only, ``https://host[:port]`` (a DNS name or an IPv4 address), or
  ``http://`` for ``localhost`` and ``127.0.0.1`` in development; no path, query, wildcard or credentials;
  the default port is dropped (``https://a.example:443`` is ``https://a.example``); at most 20.
- ``form_notification_url`` an http(s) URL with a host, up to 500 characters, holding ``[form-id]``
  (replaced by the intake's id in the staff email), or blank for none.
"""

from __future__ import annotations

import ipaddress
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.audit import service as audit_service
from clinicore.core.audit.service import Actor
from clinicore.core.models import Partner
from clinicore.core.partners import repository
from clinicore.kit.clock import Clock, system_clock
from clinicore.kit.errors import InvalidInput, NotFound

MAX_BRAND_NAME = 200
MAX_URL = 500
MAX_HOSTS = 20
MAX_HOST_NAME = 253
FORM_ID_PLACEHOLDER = "[form-id]"
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1"})
_COLOR = re.compile(r"#[0-9a-fA-F]{6}")
_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
_URL_UNSAFE = re.compile(r"[\s\x00-\x1f\x7f<>\"'`\\]")


@dataclass(frozen=True, slots=True, kw_only=True)
class BrandSettings:
    """Everything the brand page sets, as typed (lists already split into items)."""

    brand_name: str = ""
    logo_url: str = ""
    color: str = ""
    accent_color: str = ""
    host_names: Sequence[str] = ()
    allowed_redirect_hosts: Sequence[str] = ()
    frame_origins: Sequence[str] = ()
    form_notification_url: str = ""


def _refuse(field: str, message: str) -> InvalidInput:
    return InvalidInput(f"{field}: {message}", field=field)


def brand_name(value: str) -> str | None:
    name = value.strip()
    if len(name) > MAX_BRAND_NAME:
        raise _refuse("brand_name", f"at most {MAX_BRAND_NAME} characters")
    return name or None


def color(value: str, field: str = "color") -> str | None:
    text = value.strip()
    if not text:
        return None
    if not _COLOR.fullmatch(text):
        raise _refuse(field, "must be a colour written #rrggbb")
    return text.lower()


def _url(value: str, field: str, *, schemes: tuple[str, ...]) -> str | None:
    text = value.strip()
    if not text:
        return None
    wording = " or ".join(f"{scheme}://" for scheme in schemes)
    if len(text) > MAX_URL:
        raise _refuse(field, f"at most {MAX_URL} characters")
    if _URL_UNSAFE.search(text):
        raise _refuse(field, "must not contain spaces, quotes or control characters")
    try:
        parts = urlsplit(text)
        hostname = parts.hostname
        parts.port  # noqa: B018 - a port that is not a number raises here
    except ValueError:
        raise _refuse(field, f"must be a {wording} URL") from None
    if parts.scheme.lower() not in schemes or not hostname:
        raise _refuse(field, f"must be a {wording} URL")
    if parts.username is not None or parts.password is not None:
        raise _refuse(field, "must not hold a user name or password")
    return text


def logo_url(value: str) -> str | None:
    return _url(value, "logo_url", schemes=("https",))


def form_notification_url(value: str) -> str | None:
    url = _url(value, "form_notification_url", schemes=("http", "https"))
    if url is not None and FORM_ID_PLACEHOLDER not in url:
        raise _refuse("form_notification_url", f"must contain {FORM_ID_PLACEHOLDER}")
    return url


def host(value: str, field: str, *, allow_ipv6: bool = False) -> str:
    """A DNS name or an IP address, lower-cased, without its trailing dot."""
    text = value.strip().lower().removesuffix(".")
    shown = value.strip()[:60]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        address = None
    if address is not None:
        if address.version == 6 and not allow_ipv6:
            raise _refuse(field, f"{shown!r}: an IPv6 address cannot be a host name here")
        return str(address)
    labels = text.split(".")
    if not text or len(text) > MAX_HOST_NAME or not all(_LABEL.fullmatch(label) for label in labels):
        raise _refuse(field, f"{shown!r} is not a host name (letters, digits, hyphens and dots)")
    if labels[-1].isdigit():
        raise _refuse(field, f"{shown!r} is not a host name nor an IP address")
    return text


def _bounded(values: Sequence[str], field: str) -> list[str]:
    items = [value.strip() for value in values if value.strip()]
    if len(items) > MAX_HOSTS:
        raise _refuse(field, f"at most {MAX_HOSTS}")
    return items


def _distinct(values: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(values))


def hosts(values: Sequence[str], field: str, *, allow_ipv6: bool = False) -> list[str]:
    return _distinct([host(value, field, allow_ipv6=allow_ipv6) for value in _bounded(values, field)])


def frame_origin(value: str) -> str:
    """An exact origin: ``https://host[:port]``, or ``http://`` for a loopback host."""
    field = "frame_origins"
    shown = value.strip()[:80]
    refusal = _refuse(field, f"{shown!r} must be an origin such as https://app.example.com[:port]")
    text = value.strip()
    if _URL_UNSAFE.search(text) or len(text) > MAX_URL:
        raise refusal
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise refusal from None
    scheme = parts.scheme.lower()
    if (
        scheme not in ("http", "https")
        or not parts.hostname
        or parts.username is not None
        or parts.password is not None
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
        or text.endswith("?")
        or text.endswith("#")
    ):
        raise refusal
    name = host(parts.hostname, field)
    if scheme == "http" and name not in LOOPBACK_HOSTS:
        raise _refuse(field, f"{shown!r}: only https:// origins (http:// for localhost in development)")
    default_port = 443 if scheme == "https" else 80
    return f"{scheme}://{name}" + (f":{port}" if port is not None and port != default_port else "")


def frame_origins(values: Sequence[str]) -> list[str]:
    return _distinct([frame_origin(value) for value in _bounded(values, "frame_origins")])


async def _refuse_hosts_of_other_partners(
    session: AsyncSession, partner_id: uuid.UUID, host_names: Sequence[str]
) -> None:
    wanted = set(host_names)
    if not wanted:
        return
    for _other, names in await repository.host_names_of_partners(session, except_partner_id=partner_id):
        taken = wanted & {name.lower() for name in names}
        if taken:
            raise _refuse("host_names", f"{sorted(taken)[0]!r} is served by another partner")


async def partner_serving_host(session: AsyncSession, host_name: str) -> Partner | None:
    """The partner that serves Clinicore under ``host_name`` (a request's host, without its port), if any:
    its brand dresses the pages seen there before anyone signs in."""
    wanted = host_name.strip().lower().removesuffix(".")
    if not wanted or len(wanted) > MAX_HOST_NAME:
        return None
    for partner_id, names in await repository.host_names_of_partners(session):
        if wanted in names:
            return await repository.get_partner(session, partner_id)
    return None


async def get_partner(session: AsyncSession, partner_id: uuid.UUID) -> Partner:
    partner = await repository.get_partner(session, partner_id)
    if partner is None:
        raise NotFound("partner not found")
    return partner


async def update_brand(
    session: AsyncSession,
    *,
    partner_id: uuid.UUID,
    settings: BrandSettings,
    actor: Actor = audit_service.SYSTEM,
    clock: Clock = system_clock,
) -> Partner:
    """Replace the partner's brand, hosts, redirect hosts, frame origins and notification link at once;
    nothing changes when any of them is refused."""
    partner = await get_partner(session, partner_id)
    host_names = hosts(settings.host_names, "host_names")
    values: dict[str, object] = {
        "brand_name": brand_name(settings.brand_name),
        "brand_logo_url": logo_url(settings.logo_url),
        "brand_color": color(settings.color, "color"),
        "brand_accent_color": color(settings.accent_color, "accent_color"),
        "host_names": host_names,
        "allowed_redirect_hosts": hosts(
            settings.allowed_redirect_hosts, "allowed_redirect_hosts", allow_ipv6=True
        ),
        "frame_origins": frame_origins(settings.frame_origins),
        "form_notification_url": form_notification_url(settings.form_notification_url),
    }
    await _refuse_hosts_of_other_partners(session, partner.id, host_names)
    changed = sorted(name for name, value in values.items() if getattr(partner, name) != value)
    for name, value in values.items():
        setattr(partner, name, value)
    partner.updated_at = clock.now()
    await session.flush()
    if changed:
        await audit_service.record(
            session,
            clinic_id=None,
            actor=actor,
            action="partner.brand_changed",
            target_type="partner",
            target_id=partner.id,
            details={"fields": changed},
            clock=clock,
        )
    return partner
