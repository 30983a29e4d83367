"""``clinicore import-pharmacies FILE`` through the real CLI, then what ``custom_pharmacy_search`` finds.

The subprocess writes into the test run's database, so the search through the API sees its work.
Fixture files (tests/cli/data/) use ZIP codes 59001/59002 (CSV) and 58001/58002 (NPPES) that no
other test uses.
"""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from clinicore.runtime import Runtime
from tests.support import CLINICORE_BIN, clinicore_env
from tests.surfaces.qualiphy.conftest import QualiphyClinic, open_qualiphy_clinic

DATA = Path(__file__).parent / "data"


@pytest.fixture
async def qp(runtime: Runtime) -> AsyncIterator[QualiphyClinic]:
    async for opened in open_qualiphy_clinic(runtime):
        yield opened


@pytest.fixture
def env(tmp_path: Path, database_url: str) -> dict[str, str]:
    return clinicore_env(tmp_path / "data", database_url)


def import_pharmacies(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CLINICORE_BIN, "import-pharmacies", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def search(qp: QualiphyClinic, **criteria: Any) -> list[dict[str, Any]]:
    response = await qp.post("custom_pharmacy_search", **criteria)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()
    return found


class TestDocumentedCsv:
    async def test_imports_the_rows_and_reports_the_counts(
        self, env: dict[str, str], qp: QualiphyClinic
    ) -> None:
        result = import_pharmacies(env, str(DATA / "pharmacies_v1.csv"))

        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "pharmacies_v1.csv (csv): read 6, imported 3, skipped 3"
        assert "line 5: ncpdpid or npi is required" in result.stderr
        assert "line 6: name is required" in result.stderr
        assert "line 7: state" in result.stderr
        found = await search(qp, zip_code="59001")
        assert [entry["pharmacy_name"] for entry in found] == [
            "Quillfield Compounding",
            "Quillfield Pharmacy",
        ]
        compounding = found[0]
        assert compounding == {
            "ncpdpid": "9800002",
            "npi": "1000000101",
            "pharmacy_name": "Quillfield Compounding",
            "pharmacy_address_line_1": "40 Mill Road",
            "pharmacy_address_line_2": "Unit 3",
            "pharmacy_city": "Quillfield",
            "pharmacy_state": "MT",
            "pharmacy_zip_code": "59001",
            "pharmacy_phone": "+14065550102",
            "pharmacy_type": "Compounding",
        }
        [mail] = await search(qp, ncpdpid="9800003")
        assert (mail["pharmacy_type"], mail["pharmacy_phone"]) == ("Mail Order", "+14065550103")

    async def test_a_reimport_updates_instead_of_duplicating(
        self, env: dict[str, str], qp: QualiphyClinic
    ) -> None:
        assert import_pharmacies(env, str(DATA / "pharmacies_v1.csv")).returncode == 0
        second = import_pharmacies(env, str(DATA / "pharmacies_v2.csv"))  # same ids, columns reordered
        assert second.returncode == 0, second.stderr
        assert second.stdout.strip() == "pharmacies_v2.csv (csv): read 3, imported 3, skipped 0"

        found = await search(qp, search="quillfield")
        assert len(found) == 3
        [renamed] = await search(qp, ncpdpid="9800001")
        assert renamed["pharmacy_name"] == "Quillfield Pharmacy & Wellness"
        assert renamed["pharmacy_address_line_1"] == "14 Orchard Lane"
        assert renamed["pharmacy_phone"] == "+14065550111"


class TestNppes:
    async def test_keeps_pharmacy_organisations_with_their_type(
        self, env: dict[str, str], qp: QualiphyClinic
    ) -> None:
        result = import_pharmacies(env, str(DATA / "npidata_pfile_v1.csv"))

        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == (
            "npidata_pfile_v1.csv (nppes): read 8, imported 5, skipped 3, deactivated 0"
        )
        found = {entry["npi"]: entry for entry in await search(qp, search="prairie")}
        # the individual pharmacist, the hospital and the Canadian pharmacy are not in the directory;
        # the deactivated mail-order pharmacy is there but inactive, so it is not found
        assert sorted(found) == ["1000000201", "1000000202", "1000000206", "1000000208"]
        drug_co = found["1000000201"]
        assert drug_co["pharmacy_name"] == "PRAIRIE DRUG CO INC"
        assert drug_co["pharmacy_zip_code"] == "58001"  # from the ZIP+4 580011234
        assert drug_co["pharmacy_phone"] == "+17015550120"
        assert drug_co["pharmacy_type"] == "Retail"
        assert drug_co["ncpdpid"] is None
        assert found["1000000202"]["pharmacy_name"] == "PRAIRIE COMPOUNDING"  # its "doing business as" name
        assert found["1000000202"]["pharmacy_type"] == "Compounding"  # the primary pharmacy taxonomy
        assert found["1000000206"]["pharmacy_type"] == "Retail"
        assert found["1000000208"]["pharmacy_type"] == "Specialty"  # reactivated after deactivation

    async def test_the_next_month_updates_and_deactivates(
        self, env: dict[str, str], qp: QualiphyClinic
    ) -> None:
        assert import_pharmacies(env, str(DATA / "npidata_pfile_v1.csv")).returncode == 0
        result = import_pharmacies(env, "--format", "nppes", str(DATA / "npidata_pfile_v2.csv"))

        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == (
            "npidata_pfile_v2.csv (nppes): read 8, imported 4, skipped 3, deactivated 1"
        )
        found = {entry["npi"]: entry for entry in await search(qp, search="prairie")}
        assert sorted(found) == ["1000000201", "1000000202", "1000000208"]
        assert found["1000000201"]["pharmacy_address_line_1"] == "200 MAIN ST"
        assert found["1000000201"]["pharmacy_phone"] == "+17015550130"
        assert len(await search(qp, zip_code="58001", search="prairie drug")) == 1


class TestBadFiles:
    def test_an_unrecognised_header_is_one_clear_line_and_exit_1(self, env: dict[str, str]) -> None:
        result = import_pharmacies(env, str(DATA / "unrecognised.csv"))
        assert result.returncode == 1
        assert result.stderr.strip().splitlines() == [
            "clinicore: unrecognised.csv: unrecognised header: expected the pharmacy CSV header "
            "(ncpdpid,npi,name,address_line_1,address_line_2,city,state,zip_code,phone,fax,pharmacy_type) "
            "or the header of an NPPES npidata_pfile_*.csv file"
        ]

    def test_a_forced_format_that_does_not_fit_names_the_missing_columns(self, env: dict[str, str]) -> None:
        result = import_pharmacies(env, "--format", "nppes", str(DATA / "pharmacies_v1.csv"))
        assert result.returncode == 1
        assert "not a nppes file: the header lacks NPI, Entity Type Code" in result.stderr

    def test_a_zip_archive_is_refused(self, env: dict[str, str], tmp_path: Path) -> None:
        archive = tmp_path / "NPPES_Data_Dissemination.zip"
        archive.write_bytes(b"PK\x03\x04" + bytes(60))
        result = import_pharmacies(env, str(archive))
        assert result.returncode == 1
        assert "is a zip archive; unzip it" in result.stderr

    def test_a_missing_file_is_exit_1(self, env: dict[str, str], tmp_path: Path) -> None:
        result = import_pharmacies(env, str(tmp_path / "nope.csv"))
        assert result.returncode == 1
        assert "nope.csv: no such file" in result.stderr
