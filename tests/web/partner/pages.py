"""Driving the partner console through HTTP as a browser would."""

from __future__ import annotations

import httpx

from tests.web.console.pages import csrf_token


async def sign_in_partner(
    client: httpx.AsyncClient, email: str, password: str, *, next_path: str = "/partner"
) -> httpx.Response:
    page = await client.get("/partner/login")
    return await client.post(
        "/partner/login",
        data={"email": email, "password": password, "csrf_token": csrf_token(page.text), "next": next_path},
    )


async def partner_csrf(client: httpx.AsyncClient, path: str = "/partner/brand") -> str:
    page = await client.get(path)
    assert page.status_code == 200, page.text
    return csrf_token(page.text)
