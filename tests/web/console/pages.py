"""Driving the console through HTTP as a browser would: read the form, post it back."""

from __future__ import annotations

import re

import httpx

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)


async def sign_in(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    page = await client.get("/login")
    return await client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": csrf_token(page.text), "next": "/console"},
    )


async def page_csrf(client: httpx.AsyncClient, path: str) -> str:
    """The CSRF token of the form on the page at ``path``."""
    page = await client.get(path)
    assert page.status_code == 200, page.text
    return csrf_token(page.text)


async def console_csrf(client: httpx.AsyncClient) -> str:
    return await page_csrf(client, "/console/keys")
