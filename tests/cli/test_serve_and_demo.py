from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from tests.support import ServerProcess, clinicore_env, remember_secret, run_clinicore

DEMO_FIELDS = {
    "base_url",
    "clinic_id",
    "console_email",
    "console_password",
    "qualiphy_api_key",
    "qualifybase_api_key",
    "intakeq_practice_key",
    "intakeq_partner_key",
    "native_api_key",
    "provider_email",
    "provider_password",
    "pharmacy_email",
    "pharmacy_password",
    "partner_console_email",
    "partner_console_password",
    "booking_page",
}


@pytest.fixture
def env(tmp_path: Path, subprocess_database_url: str | None) -> dict[str, str]:
    return clinicore_env(tmp_path / "data", subprocess_database_url)


def demo_json(env: dict[str, str]) -> dict[str, str]:
    result = run_clinicore("demo", "--json", env=env)
    assert result.returncode == 0
    demo = json.loads(result.stdout)  # exactly one JSON object on stdout, nothing else
    public = {
        "base_url",
        "clinic_id",
        "console_email",
        "provider_email",
        "pharmacy_email",
        "partner_console_email",
    }
    for field in DEMO_FIELDS - public:
        remember_secret(demo[field])
    return demo


class TestServe:
    def test_clinicore_serve_answers_healthz_and_readyz(self, env: dict[str, str]) -> None:
        server = ServerProcess(env)
        try:
            server.wait_ready()
            assert httpx.get(f"{server.base_url}/healthz").json() == {"status": "ok"}
            assert httpx.get(f"{server.base_url}/readyz").json() == {"status": "ready", "database": "ok"}
            assert "clinicore_http_requests_total" in httpx.get(f"{server.base_url}/metrics").text
        finally:
            server.stop()

    def test_demo_keys_work_against_the_started_server(self, env: dict[str, str]) -> None:
        demo = demo_json(env)
        server = ServerProcess(env)
        try:
            server.wait_ready()
            me = httpx.get(
                f"{server.base_url}/api/me", headers={"Authorization": f"Bearer {demo['native_api_key']}"}
            )
            assert me.status_code == 200
            assert me.json()["clinic"]["id"] == demo["clinic_id"]
            login = httpx.get(f"{server.base_url}/login")
            assert login.status_code == 200
        finally:
            server.stop()


class TestDemo:
    def test_demo_json_prints_every_field(self, env: dict[str, str]) -> None:
        demo = demo_json(env)
        assert set(demo) == DEMO_FIELDS
        assert demo["qualifybase_api_key"].startswith("qbk_live_")
        assert demo["native_api_key"].startswith("ck_")
        assert all(isinstance(value, str) and value for value in demo.values())

    def test_running_demo_again_refreshes_the_same_clinic_with_new_keys(self, env: dict[str, str]) -> None:
        first = demo_json(env)
        second = demo_json(env)
        assert second["clinic_id"] == first["clinic_id"]
        assert second["native_api_key"] != first["native_api_key"]
        assert second["console_password"] != first["console_password"]
        assert second["provider_password"] != first["provider_password"]
        assert second["pharmacy_password"] != first["pharmacy_password"]
        assert second["partner_console_password"] != first["partner_console_password"]

    def test_demo_without_json_prints_urls_and_login(self, env: dict[str, str]) -> None:
        result = run_clinicore("demo", env=env)
        assert result.returncode == 0
        assert "/console" in result.stdout and "demo@clinicore.example" in result.stdout
        assert "/provider" in result.stdout and "/pharmacy" in result.stdout
        assert "pharmacy@clinicore.example" in result.stdout
        lines = [line.rstrip() for line in result.stdout.splitlines()]
        assert any(line.split()[:2] == ["Partner", "console"] and line.endswith("/partner") for line in lines)
        assert "partner@clinicore.example" in result.stdout
        for line in result.stdout.splitlines():
            if "login" in line or "Medical director" in line:
                remember_secret(line.rsplit("/ ", 1)[1].strip())
            for token in line.split():
                if token.startswith(("qbk_live_", "ck_")) or (len(token) in (40, 48) and token.isalnum()):
                    remember_secret(token)


class TestCommands:
    def test_clinic_user_and_key_commands(self, env: dict[str, str]) -> None:
        created = run_clinicore(
            "clinic", "create", "--name", "CLI Clinic", "--time-zone", "Europe/London", env=env
        )
        assert created.returncode == 0
        clinic_id = created.stdout.strip()
        password = remember_secret("cli-password-123")
        user = run_clinicore(
            "user",
            "create",
            "--clinic-id",
            clinic_id,
            "--email",
            "cli@clinic.example",
            "--password",
            password,
            env=env,
        )
        assert user.returncode == 0
        key = run_clinicore("keys", "create", "--clinic-id", clinic_id, "--kind", "native", env=env)
        assert key.returncode == 0
        secret = remember_secret(key.stdout.strip())
        assert secret.startswith("ck_")

    def test_a_bad_time_zone_is_one_clear_line(self, env: dict[str, str]) -> None:
        result = run_clinicore("clinic", "create", "--name", "X", "--time-zone", "Mars/Olympus", env=env)
        assert result.returncode == 1

    @pytest.mark.parametrize(
        ("variable", "value"),
        [
            ("CLINICORE_BASE_URL", "ftp://clinic"),
            ("CLINICORE_ENV", "staging"),
            ("CLINICORE_SMTP_PORT", "seventy"),
            ("CLINICORE_DATABASE_URL", "mysql://localhost/x"),
            ("CLINICORE_SECRET_KEY", "short"),
        ],
    )
    def test_a_wrong_setting_stops_start_up_naming_the_variable(
        self, env: dict[str, str], variable: str, value: str, tmp_path: Path
    ) -> None:
        log = tmp_path / "stderr.txt"
        import subprocess

        from tests.support import CLINICORE_BIN

        with log.open("w") as stderr:
            result = subprocess.run(
                [CLINICORE_BIN, "migrate"],
                env={**env, variable: value},
                stderr=stderr,
                stdout=subprocess.DEVNULL,
                timeout=60,
                check=False,
            )
        assert result.returncode == 2
        lines = log.read_text().strip().splitlines()
        assert len(lines) == 1
        assert lines[0].startswith(f"clinicore: {variable}: ")
