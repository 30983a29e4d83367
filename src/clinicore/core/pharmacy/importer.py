"""Reading a retail pharmacy directory file: the documented CSV, or the NPPES NPI monthly data file.

The NPPES file (``npidata_pfile_*.csv``) is about 9 GB: it is read one row at a time with the ``csv``
module and handed over in batches, never held whole. Of its rows we keep organisations (entity type
2) with a pharmacy taxonomy (the 3336 family); a deactivated NPI (its row blank but for the NPI and
the deactivation date) becomes a deactivation notice for the entry we may hold under that NPI.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import TextIO

from clinicore.core.pharmacy.schemas import RetailPharmacyRecord
from clinicore.core.pharmacy.service import normalise_ncpdpid, normalise_npi, normalise_phone, normalise_zip
from clinicore.core.telehealth.states import USPS_STATES
from clinicore.kit.errors import InvalidInput

BATCH_SIZE = 1000
MAX_PROBLEMS = 20

# The documented CSV (docs/pharmacy-directory.md): a header row with these names, in any order.
CSV_COLUMNS = (
    "ncpdpid",
    "npi",
    "name",
    "address_line_1",
    "address_line_2",
    "city",
    "state",
    "zip_code",
    "phone",
    "fax",
    "pharmacy_type",
)
CSV_LIMITS = {"name": 200, "address_line_1": 200, "address_line_2": 200, "city": 100, "pharmacy_type": 50}

NPPES_NPI = "NPI"
NPPES_ENTITY_TYPE = "Entity Type Code"
NPPES_LEGAL_NAME = "Provider Organization Name (Legal Business Name)"
NPPES_OTHER_NAME = "Provider Other Organization Name"
NPPES_OTHER_NAME_TYPE = "Provider Other Organization Name Type Code"  # 3 = "doing business as"
NPPES_ADDRESS_1 = "Provider First Line Business Practice Location Address"
NPPES_ADDRESS_2 = "Provider Second Line Business Practice Location Address"
NPPES_CITY = "Provider Business Practice Location Address City Name"
NPPES_STATE = "Provider Business Practice Location Address State Name"
NPPES_ZIP = "Provider Business Practice Location Address Postal Code"
NPPES_COUNTRY = "Provider Business Practice Location Address Country Code (If outside U.S.)"
NPPES_PHONE = "Provider Business Practice Location Address Telephone Number"
NPPES_FAX = "Provider Business Practice Location Address Fax Number"
NPPES_DEACTIVATED = "NPI Deactivation Date"
NPPES_REACTIVATED = "NPI Reactivation Date"
NPPES_TAXONOMY = "Healthcare Provider Taxonomy Code_{}"
NPPES_PRIMARY = "Healthcare Provider Primary Taxonomy Switch_{}"
NPPES_TAXONOMY_SLOTS = range(1, 16)
NPPES_REQUIRED = (
    NPPES_NPI,
    NPPES_ENTITY_TYPE,
    NPPES_LEGAL_NAME,
    NPPES_ADDRESS_1,
    NPPES_CITY,
    NPPES_STATE,
    NPPES_ZIP,
    NPPES_TAXONOMY.format(1),
)
ORGANISATION = "2"

# NUCC pharmacy taxonomy codes (the 3336 family) and the pharmacy_type each gives.
PHARMACY_TAXONOMIES = {
    "333600000X": "Retail",  # Pharmacy (the generic code community pharmacies often use)
    "3336C0003X": "Retail",  # Community/Retail Pharmacy
    "3336C0004X": "Compounding",
    "3336M0002X": "Mail Order",
    "3336S0011X": "Specialty",
    "3336H0001X": "Home Infusion",
    "3336L0003X": "Long Term Care",
    "3336C0002X": "Clinic",
    "3336I0012X": "Institutional",
    "3336N0007X": "Nuclear",
    "3336M0003X": "Managed Care",
}
PHARMACY_TYPE_WORDS = {label.lower(): label for label in PHARMACY_TAXONOMIES.values()} | {
    "community": "Retail",
    "community/retail": "Retail",
    "mail-order": "Mail Order",
    "mail_order": "Mail Order",
    "mailorder": "Mail Order",
    "ltc": "Long Term Care",
    "long-term care": "Long Term Care",
    "long_term_care": "Long Term Care",
    "home_infusion": "Home Infusion",
    "managed_care": "Managed Care",
}
ZIP_MAGIC = "PK\x03\x04"


class DirectoryFormat(StrEnum):
    auto = "auto"
    csv = "csv"
    nppes = "nppes"


@dataclass
class DirectoryBatch:
    records: list[RetailPharmacyRecord] = field(default_factory=list)
    deactivated_npis: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.records) + len(self.deactivated_npis)


@dataclass
class ReadStats:
    read: int = 0  # data rows
    kept: int = 0  # pharmacy records handed over
    skipped: int = 0  # rows that are not pharmacies, or that could not be read
    deactivation_notices: int = 0
    problems: list[str] = field(default_factory=list)  # the first few skipped rows of a CSV, with why

    def problem(self, line: int, message: str) -> None:
        self.skipped += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(f"line {line}: {message}")


def pharmacy_type_label(value: str | None) -> str | None:
    raw = " ".join((value or "").split())
    if not raw:
        return None
    return PHARMACY_TYPE_WORDS.get(raw.lower(), raw)


def detect_format(header: Sequence[str], *, source_name: str = "input") -> DirectoryFormat:
    names = {name.strip() for name in header}
    if NPPES_NPI in names and NPPES_ENTITY_TYPE in names:
        return DirectoryFormat.nppes
    if {name.lower() for name in names} >= {"name", "ncpdpid"}:
        return DirectoryFormat.csv
    raise InvalidInput(
        f"{source_name}: unrecognised header: expected the pharmacy CSV header ("
        + ",".join(CSV_COLUMNS)
        + ") or the header of an NPPES npidata_pfile_*.csv file"
    )


def open_directory_file(path: Path) -> TextIO:
    """Open an import file for streaming, refusing what cannot be a CSV file with a clear message."""
    try:
        with path.open("rb") as probe:
            start = probe.read(4)
    except FileNotFoundError:
        raise InvalidInput(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InvalidInput(f"{path}: is a directory, not a CSV file") from None
    if start == ZIP_MAGIC.encode("latin-1"):
        raise InvalidInput(f"{path}: is a zip archive; unzip it and import the npidata_pfile_*.csv inside")
    # NPPES files are UTF-8; an odd byte deep in a 9 GB file should not stop the import.
    return path.open(newline="", encoding="utf-8-sig", errors="replace")


class DirectoryReader:
    """Rows of a directory file, read lazily and handed over as batches of records."""

    def __init__(
        self,
        lines: Iterable[str],
        *,
        file_format: DirectoryFormat = DirectoryFormat.auto,
        source_name: str = "input",
        batch_size: int = BATCH_SIZE,
    ) -> None:
        self.source_name = source_name
        self.batch_size = batch_size
        self.stats = ReadStats()
        self._rows = csv.reader(lines)
        header = self._next_row()
        if header is None or not any(cell.strip() for cell in header):
            raise InvalidInput(f"{source_name}: the file is empty")
        if any("\x00" in cell for cell in header):
            raise InvalidInput(f"{source_name}: is not a text CSV file")
        detected = (
            detect_format(header, source_name=source_name)
            if file_format == DirectoryFormat.auto
            else file_format
        )
        self.format = detected
        self._columns = {name.strip(): index for index, name in enumerate(header)}
        self._width = len(header)
        if detected == DirectoryFormat.csv:
            self._columns = {name.lower(): index for name, index in self._columns.items()}
            missing = [name for name in CSV_COLUMNS if name not in self._columns]
        else:
            missing = [name for name in NPPES_REQUIRED if name not in self._columns]
        if missing:
            raise InvalidInput(
                f"{source_name}: not a {detected.value} file: the header lacks " + ", ".join(missing)
            )

    @property
    def source(self) -> str:
        return self.format.value

    def _next_row(self) -> list[str] | None:
        try:
            return next(self._rows)
        except StopIteration:
            return None
        except csv.Error as exc:
            raise InvalidInput(
                f"{self.source_name}: line {self._rows.line_num}: malformed CSV ({exc})"
            ) from None

    def batches(self) -> Iterator[DirectoryBatch]:
        batch = DirectoryBatch()
        read_row = self._csv_row if self.format == DirectoryFormat.csv else self._nppes_row
        while (row := self._next_row()) is not None:
            if not any(cell.strip() for cell in row):
                continue  # blank line
            self.stats.read += 1
            if any("\x00" in cell for cell in row):  # a database text column cannot hold it
                self.stats.problem(self._rows.line_num, "contains a NUL byte")
                continue
            read_row(row, batch)
            if len(batch) >= self.batch_size:
                yield batch
                batch = DirectoryBatch()
        if len(batch):
            yield batch

    # --- the documented CSV ---------------------------------------------------------------------

    def _csv_row(self, row: list[str], batch: DirectoryBatch) -> None:
        line = self._rows.line_num
        if len(row) != self._width:
            self.stats.problem(line, f"expected {self._width} columns, found {len(row)}")
            return
        cell = {name: row[index].strip() for name, index in self._columns.items()}
        try:
            record = csv_record(cell)
        except InvalidInput as exc:
            self.stats.problem(line, exc.message)
            return
        self.stats.kept += 1
        batch.records.append(record)

    # --- NPPES ----------------------------------------------------------------------------------

    def _cell(self, row: list[str], name: str) -> str:
        index = self._columns.get(name)
        return row[index].strip() if index is not None and index < len(row) else ""

    def _nppes_row(self, row: list[str], batch: DirectoryBatch) -> None:
        npi = self._cell(row, NPPES_NPI)
        if len(npi) != 10 or not npi.isdigit():
            self.stats.skipped += 1
            return
        deactivated = is_deactivated(self._cell(row, NPPES_DEACTIVATED), self._cell(row, NPPES_REACTIVATED))
        entity = self._cell(row, NPPES_ENTITY_TYPE)
        if deactivated and not entity:
            self.stats.deactivation_notices += 1
            batch.deactivated_npis.append(npi)
            return
        if entity != ORGANISATION:  # most rows are individuals: leave them before reading 30 columns
            self.stats.skipped += 1
            return
        taxonomy = pharmacy_taxonomy(
            [
                (self._cell(row, NPPES_TAXONOMY.format(slot)), self._cell(row, NPPES_PRIMARY.format(slot)))
                for slot in NPPES_TAXONOMY_SLOTS
            ]
        )
        country = self._cell(row, NPPES_COUNTRY).upper()
        if taxonomy is None or country not in ("", "US"):
            self.stats.skipped += 1
            return
        name = self._cell(row, NPPES_LEGAL_NAME)
        if self._cell(row, NPPES_OTHER_NAME_TYPE) == "3" and self._cell(row, NPPES_OTHER_NAME):
            name = self._cell(row, NPPES_OTHER_NAME)  # the "doing business as" name is the sign's
        if not name:
            self.stats.skipped += 1
            return
        state = self._cell(row, NPPES_STATE).upper()
        self.stats.kept += 1
        batch.records.append(
            RetailPharmacyRecord(
                name=name[:200],
                npi=npi,
                address_line_1=self._cell(row, NPPES_ADDRESS_1)[:200] or None,
                address_line_2=self._cell(row, NPPES_ADDRESS_2)[:200] or None,
                city=self._cell(row, NPPES_CITY)[:100] or None,
                state=state if len(state) == 2 and state.isalpha() else None,
                zip_code=normalise_zip(self._cell(row, NPPES_ZIP)),
                phone=normalise_phone(self._cell(row, NPPES_PHONE)),
                fax=normalise_phone(self._cell(row, NPPES_FAX)),
                pharmacy_type=PHARMACY_TAXONOMIES[taxonomy],
                taxonomy_code=taxonomy,
                is_active=not deactivated,
            )
        )


def csv_record(cell: dict[str, str]) -> RetailPharmacyRecord:
    """One row of the documented CSV as a record, or InvalidInput saying what is wrong with it."""
    name = " ".join(cell.get("name", "").split())
    if not name:
        raise InvalidInput("name is required")
    for column, limit in CSV_LIMITS.items():
        if len(cell.get(column, "")) > limit:
            raise InvalidInput(f"{column}: longer than {limit} characters")
    ncpdpid = normalise_ncpdpid(cell.get("ncpdpid"))
    npi = normalise_npi(cell.get("npi"))
    if ncpdpid is None and npi is None:
        raise InvalidInput("ncpdpid or npi is required")
    state = cell.get("state", "").upper() or None
    if state is not None and state not in USPS_STATES:
        raise InvalidInput(f"state: {state!r} is not a two-letter U.S. state code")
    zip_code = None
    if cell.get("zip_code"):
        zip_code = normalise_zip(cell["zip_code"])
        if zip_code is None:
            raise InvalidInput(f"zip_code: {cell['zip_code']!r} is not a ZIP code")
    return RetailPharmacyRecord(
        name=name,
        ncpdpid=ncpdpid,
        npi=npi,
        address_line_1=cell.get("address_line_1") or None,
        address_line_2=cell.get("address_line_2") or None,
        city=cell.get("city") or None,
        state=state,
        zip_code=zip_code,
        phone=normalise_phone(cell.get("phone")),
        fax=normalise_phone(cell.get("fax")),
        pharmacy_type=pharmacy_type_label(cell.get("pharmacy_type")),
    )


def pharmacy_taxonomy(slots: Sequence[tuple[str, str]]) -> str | None:
    """The pharmacy code among (taxonomy code, primary switch) pairs: the primary one, else the first."""
    codes = [(code.upper(), switch.upper() == "Y") for code, switch in slots if code]
    pharmacy_codes = [(code, primary) for code, primary in codes if code in PHARMACY_TAXONOMIES]
    for code, primary in pharmacy_codes:
        if primary:
            return code
    return pharmacy_codes[0][0] if pharmacy_codes else None


def _nppes_date(value: str) -> date | None:
    for pattern in ("%m/%d/%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(value, pattern).date()
        except ValueError:
            continue
    return None


def is_deactivated(deactivated_on: str, reactivated_on: str) -> bool:
    """Deactivated, unless reactivated on or after the deactivation."""
    if not deactivated_on:
        return False
    if not reactivated_on:
        return True
    deactivation, reactivation = _nppes_date(deactivated_on), _nppes_date(reactivated_on)
    if deactivation is None or reactivation is None:
        return False
    return reactivation < deactivation
