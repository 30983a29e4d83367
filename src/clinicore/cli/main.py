"""The ``clinicore`` command: serve, worker, migrate, demo, clinic, user, keys."""

from __future__ import annotations

import contextlib
import json
import secrets
import uuid
from typing import Annotated, Any

import typer
import uvicorn
from rich.console import Console

from clinicore.cli.demo import DemoResult, seed_demo
from clinicore.cli.pharmacies import import_pharmacies
from clinicore.cli.running import run_with_runtime, settings_or_exit
from clinicore.core.audit.service import CLI
from clinicore.core.models import ApiKeyKind, ClinicUserRole
from clinicore.core.partners import service as partner_service
from clinicore.core.tenancy import service as tenancy_service
from clinicore.migrations import upgrade_database
from clinicore.runtime import Runtime
from clinicore.web.call.messages import MAX_FRAME_BYTES

app = typer.Typer(help="Clinicore: self-hostable clinic and telehealth platform.", no_args_is_help=True)
user_app = typer.Typer(help="Console users.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys.", no_args_is_help=True)
clinic_app = typer.Typer(help="Clinics.", no_args_is_help=True)
app.add_typer(user_app, name="user")
partner_user_app = typer.Typer(help="Partner console users.", no_args_is_help=True)
app.add_typer(partner_user_app, name="partner-user")
app.add_typer(keys_app, name="keys")
app.add_typer(clinic_app, name="clinic")
app.command("import-pharmacies")(import_pharmacies)
console = Console()


@app.command()
def migrate() -> None:
    """Bring the database schema up to date."""
    settings = settings_or_exit()
    upgrade_database(settings.resolved_database_url)
    console.print("[green]Database is up to date.[/]")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="API processes.")] = 1,
    embedded_worker: Annotated[
        bool,
        typer.Option(
            "--embedded-worker/--no-embedded-worker",
            help="Run the job worker: in the API process, or in one process of its own with --workers > 1.",
        ),
    ] = True,
) -> None:
    """Migrate, then serve the APIs, the pages and (by default) the worker loop: in the one API process, or
    in a process of its own beside several (``--workers``)."""
    settings = settings_or_exit()
    upgrade_database(settings.resolved_database_url)
    console.print(
        f"Clinicore listening on http://{host}:{port}  (console: http://{host}:{port}/console)",
        highlight=False,
        soft_wrap=True,
    )
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "access_log": False,
        "log_config": None,
        # The video call's signalling frames are small (web/call/messages.py): a larger frame is refused
        # by the server before it is read whole, not after.
        "ws_max_size": MAX_FRAME_BYTES + 1024,
        # X-Forwarded-For is believed only from CLINICORE_TRUSTED_PROXIES, by the app (uvicorn's own
        # handling trusts 127.0.0.1).
        "proxy_headers": False,
    }
    if workers == 1:
        from clinicore.app import create_app

        uvicorn.run(create_app(Runtime.from_settings(settings), embedded_worker=embedded_worker), **options)
        return
    import os

    from clinicore.cli.serve import worker_process

    # Several API processes: the worker loop runs once, in a process of its own (cli/serve.py).
    os.environ["CLINICORE_EMBEDDED_WORKER"] = "0"
    with worker_process() if embedded_worker else contextlib.nullcontext():
        uvicorn.run("clinicore.asgi:create_app_from_environment", factory=True, workers=workers, **options)


@app.command()
def worker() -> None:
    """Run the job worker alone (any number of them on PostgreSQL)."""
    from clinicore.cli.serve import run_worker_process

    run_worker_process()


@app.command()
def demo(as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False) -> None:
    """Create or refresh the demo partner and clinic; print URLs, the console login and fresh keys."""
    settings = settings_or_exit()
    result: DemoResult = run_with_runtime(settings, seed_demo)
    if as_json:
        typer.echo(json.dumps(result.as_json()))
        return
    console.print("[bold]Clinicore demo[/]")
    width = max(len(label) for label, _ in result.lines())
    for label, value in result.lines():
        console.print(f"  {label.ljust(width)}  {value}", highlight=False, soft_wrap=True)


@clinic_app.command("create")
def clinic_create(
    name: Annotated[str, typer.Option(help="Clinic name.")],
    time_zone: Annotated[
        str, typer.Option(help="IANA time zone, e.g. America/New_York.")
    ] = "America/New_York",
) -> None:
    """Create a clinic and print its id."""
    settings = settings_or_exit()

    async def _run(runtime: Runtime) -> uuid.UUID:
        async with runtime.sessions() as session, session.begin():
            clinic = await tenancy_service.create_clinic(session, name=name, time_zone=time_zone, actor=CLI)
            return clinic.id

    typer.echo(str(run_with_runtime(settings, _run)))


@user_app.command("create")
def user_create(
    clinic_id: Annotated[uuid.UUID, typer.Option(help="The clinic the user belongs to.")],
    email: Annotated[str, typer.Option(help="Sign-in email.")],
    name: Annotated[str, typer.Option(help="Display name.")] = "",
    role: Annotated[ClinicUserRole, typer.Option(help="admin or staff.")] = ClinicUserRole.admin,
    password: Annotated[
        str | None, typer.Option(help="Password (asked for when omitted; generated with --generate).")
    ] = None,
    generate: Annotated[bool, typer.Option(help="Generate a password and print it.")] = False,
) -> None:
    """Create a console user."""
    settings = settings_or_exit()
    if password is None:
        password = (
            secrets.token_urlsafe(12)
            if generate
            else typer.prompt("Password", hide_input=True, confirmation_prompt=True)
        )

    async def _run(runtime: Runtime) -> None:
        async with runtime.sessions() as session, session.begin():
            await tenancy_service.get_clinic(session, clinic_id)
            await tenancy_service.create_user(
                session, clinic_id=clinic_id, email=email, name=name, password=password, role=role, actor=CLI
            )

    run_with_runtime(settings, _run)
    typer.echo(f"created {email}" + (f" with password {password}" if generate else ""))


@partner_user_app.command("create")
def partner_user_create(
    partner_id: Annotated[uuid.UUID, typer.Option(help="The partner the user belongs to.")],
    email: Annotated[str, typer.Option(help="Sign-in email.")],
    name: Annotated[str, typer.Option(help="Display name.")] = "",
    password: Annotated[
        str | None, typer.Option(help="Password (asked for when omitted; generated with --generate).")
    ] = None,
    generate: Annotated[bool, typer.Option(help="Generate a password and print it.")] = False,
) -> None:
    """Create a partner console user (signs in at /partner)."""
    settings = settings_or_exit()
    if password is None:
        password = (
            secrets.token_urlsafe(12)
            if generate
            else typer.prompt("Password", hide_input=True, confirmation_prompt=True)
        )

    async def _run(runtime: Runtime) -> None:
        async with runtime.sessions() as session, session.begin():
            await partner_service.create_user(
                session, partner_id=partner_id, email=email, name=name, password=password, actor=CLI
            )

    run_with_runtime(settings, _run)
    typer.echo(f"created partner user {email}" + (f" with password {password}" if generate else ""))


@keys_app.command("create")
def keys_create(
    kind: Annotated[ApiKeyKind, typer.Option(help="Key kind.")],
    clinic_id: Annotated[
        uuid.UUID | None, typer.Option(help="Clinic (every kind but intakeq_partner).")
    ] = None,
    partner_id: Annotated[uuid.UUID | None, typer.Option(help="Partner (intakeq_partner keys).")] = None,
    name: Annotated[str, typer.Option(help="A name to recognise the key by.")] = "",
) -> None:
    """Create (or, for Qualiphy and IntakeQ practice keys, rotate) a key and print it once."""
    settings = settings_or_exit()

    async def _run(runtime: Runtime) -> str:
        async with runtime.sessions() as session, session.begin():
            if clinic_id:
                await tenancy_service.get_clinic(session, clinic_id)
            created = await tenancy_service.create_key(
                session,
                box=runtime.box,
                kind=kind,
                name=name,
                clinic_id=clinic_id,
                partner_id=partner_id,
                actor=CLI,
            )
            return created.secret

    typer.echo(run_with_runtime(settings, _run))


if __name__ == "__main__":
    app()
