"""Reading directory files: format detection, row rules, NPPES filtering, and streaming."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest

from clinicore.core.pharmacy.importer import (
    CSV_COLUMNS,
    DirectoryFormat,
    DirectoryReader,
    csv_record,
    detect_format,
    is_deactivated,
    pharmacy_taxonomy,
)
from clinicore.kit.errors import InvalidInput

HEADER = ",".join(CSV_COLUMNS)


def reader(text: str, **options: object) -> DirectoryReader:
    return DirectoryReader(io.StringIO(text), source_name="test.csv", **options)  # type: ignore[arg-type]


class TestDetectFormat:
    def test_the_documented_header_is_csv(self) -> None:
        assert detect_format(CSV_COLUMNS) == DirectoryFormat.csv

    def test_the_nppes_header_is_nppes(self) -> None:
        assert detect_format(["NPI", "Entity Type Code", "Replacement NPI"]) == DirectoryFormat.nppes

    def test_anything_else_is_refused_with_what_was_expected(self) -> None:
        with pytest.raises(InvalidInput, match="unrecognised header"):
            detect_format(["id", "title"])


class TestCsvRows:
    def cell(self, **values: str) -> dict[str, str]:
        return dict.fromkeys(CSV_COLUMNS, "") | values

    def test_normalises_zip_phone_ncpdpid_and_type(self) -> None:
        record = csv_record(
            self.cell(
                ncpdpid="123456",
                name="  Corner   Pharmacy ",
                state="ny",
                zip_code="10001-2207",
                phone="(212) 555-0101",
                pharmacy_type="mail order",
            )
        )
        assert record.ncpdpid == "0123456"
        assert record.name == "Corner Pharmacy"
        assert record.state == "NY"
        assert record.zip_code == "10001"
        assert record.phone == "+12125550101"
        assert record.pharmacy_type == "Mail Order"

    def test_a_phone_that_is_not_a_valid_number_is_kept_as_written(self) -> None:
        assert csv_record(self.cell(ncpdpid="1234567", name="X", phone="ext. 12")).phone == "ext. 12"

    @pytest.mark.parametrize(
        ("values", "message"),
        [
            ({"ncpdpid": "1234567"}, "name is required"),
            ({"name": "No Ids"}, "ncpdpid or npi is required"),
            ({"name": "X", "ncpdpid": "12AB"}, "ncpdpid"),
            ({"name": "X", "npi": "12345"}, "npi"),
            ({"name": "X", "ncpdpid": "1234567", "state": "ZZ"}, "state"),
            ({"name": "X", "ncpdpid": "1234567", "zip_code": "1234"}, "zip_code"),
        ],
    )
    def test_an_invalid_row_says_why(self, values: dict[str, str], message: str) -> None:
        with pytest.raises(InvalidInput, match=message):
            csv_record(self.cell(**values))

    def test_skipped_rows_are_counted_with_their_line(self) -> None:
        opened = reader(f"{HEADER}\n1234567,,Good,,,,NY,10001,,,\n,,No Ids,,,,NY,10001,,,\nshort,row\n")
        records = [record for batch in opened.batches() for record in batch.records]
        assert [record.name for record in records] == ["Good"]
        assert (opened.stats.read, opened.stats.kept, opened.stats.skipped) == (3, 1, 2)
        assert opened.stats.problems == [
            "line 3: ncpdpid or npi is required",
            "line 4: expected 11 columns, found 2",
        ]

    def test_a_header_lacking_columns_names_them(self) -> None:
        with pytest.raises(InvalidInput, match="lacks npi"):
            reader("ncpdpid,name\n1234567,X\n")

    def test_an_empty_file_is_refused(self) -> None:
        with pytest.raises(InvalidInput, match="empty"):
            reader("")

    def test_a_row_with_a_nul_byte_is_skipped(self) -> None:
        opened = reader(f"{HEADER}\n1234567,,Good\x00,,,,NY,10001,,,\n")
        assert [batch.records for batch in opened.batches()] == []
        assert opened.stats.problems == ["line 2: contains a NUL byte"]

    def test_a_field_too_large_for_a_csv_file_is_a_clear_error(self) -> None:
        opened = reader(f"{HEADER}\n1234567,,{'x' * 200_000},,,,NY,10001,,,\n")
        with pytest.raises(InvalidInput, match="line 2: malformed CSV"):
            list(opened.batches())


class TestNppesRules:
    def test_the_primary_pharmacy_taxonomy_wins_else_the_first(self) -> None:
        assert pharmacy_taxonomy([("3336C0003X", "N"), ("3336C0004X", "Y")]) == "3336C0004X"
        assert (
            pharmacy_taxonomy([("261QM1300X", "Y"), ("3336M0002X", "N"), ("3336S0011X", "N")]) == "3336M0002X"
        )
        assert pharmacy_taxonomy([("207Q00000X", "Y"), ("", "")]) is None

    def test_deactivated_unless_reactivated_since(self) -> None:
        assert is_deactivated("01/15/2020", "")
        assert not is_deactivated("01/15/2020", "02/01/2020")
        assert is_deactivated("01/15/2020", "01/01/2019")
        assert not is_deactivated("", "")


class TestStreaming:
    def test_batches_are_handed_over_before_the_file_is_read_to_the_end(self) -> None:
        consumed = 0

        def lines() -> Iterator[str]:
            nonlocal consumed
            yield HEADER + "\n"
            for number in range(1, 10_001):
                consumed += 1
                yield f"{number:07d},,Pharmacy {number},,,,NY,10001,,,\n"

        batches = DirectoryReader(lines(), file_format=DirectoryFormat.csv, batch_size=100).batches()
        first = next(batches)
        assert len(first.records) == 100
        assert consumed <= 101
        assert sum(len(batch.records) for batch in batches) == 9_900
