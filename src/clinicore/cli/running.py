"""What every command does first: load the settings (or exit with the reason) and run with a runtime."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import typer

from clinicore.config import Settings, SettingsError, load_settings
from clinicore.kit.errors import CoreError
from clinicore.kit.observability import configure_logging
from clinicore.migrations import upgrade_database
from clinicore.runtime import Runtime

T = TypeVar("T")


def settings_or_exit() -> Settings:
    try:
        settings = load_settings()
    except SettingsError as exc:
        typer.echo(f"clinicore: {exc}", err=True)
        raise typer.Exit(2) from None
    configure_logging(settings.log_level)
    return settings


def run_with_runtime(settings: Settings, action: Callable[[Runtime], Awaitable[T]]) -> T:
    """Bring the schema up to date (a no-op when it is), then run ``action`` with a runtime."""
    upgrade_database(settings.resolved_database_url)

    async def _run() -> T:
        runtime = Runtime.from_settings(settings)
        try:
            return await action(runtime)
        finally:
            await runtime.close()

    try:
        return asyncio.run(_run())
    except CoreError as exc:
        typer.echo(f"clinicore: {exc.message}", err=True)
        raise typer.Exit(1) from None
