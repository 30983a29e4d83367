"""The foundation's routes: readiness, the native API's key lookup and key list, and a rendered page."""

from __future__ import annotations

from bench.harness import Route, Scenario, ServerUnderTest


def foundation_routes(server: ServerUnderTest) -> list[Route]:
    native = server.bearer("native_api_key")
    return [
        Route("/readyz", what="one database round trip"),
        Route("/api/me", headers=native, what="key lookup by prefix + digest, clinic load"),
        Route("/api/keys", headers=native, what="key lookup, then the clinic's keys listed"),
        Route("/login", what="Jinja2 template render, CSRF cookie"),
    ]


SCENARIO = Scenario(name="foundation", routes=foundation_routes, order=0)
