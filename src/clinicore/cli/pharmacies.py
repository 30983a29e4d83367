"""``clinicore import-pharmacies FILE``: load the retail pharmacy directory that
``custom_pharmacy_search`` searches, from the documented CSV or an NPPES NPI data file.

The file is streamed and written in batches, one transaction each, so that the 9 GB NPPES file
needs neither its size in memory nor one enormous transaction; running it again updates in place.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from clinicore.cli.running import run_with_runtime, settings_or_exit
from clinicore.core.pharmacy import service as pharmacy_service
from clinicore.core.pharmacy.importer import DirectoryFormat, DirectoryReader, ReadStats, open_directory_file
from clinicore.runtime import Runtime


@dataclass
class ImportResult:
    file_format: DirectoryFormat
    stats: ReadStats
    imported: int = 0
    deactivated: int = 0


async def import_directory(runtime: Runtime, path: Path, file_format: DirectoryFormat) -> ImportResult:
    with open_directory_file(path) as stream:
        reader = DirectoryReader(stream, file_format=file_format, source_name=path.name)
        result = ImportResult(file_format=reader.format, stats=reader.stats)
        for batch in reader.batches():
            async with runtime.sessions() as session, session.begin():
                result.imported += await pharmacy_service.upsert_retail_pharmacies(
                    session, records=batch.records, source=reader.source, clock=runtime.clock
                )
                result.deactivated += await pharmacy_service.deactivate_retail_pharmacies(
                    session, npis=batch.deactivated_npis, clock=runtime.clock
                )
    return result


def import_pharmacies(
    file: Annotated[Path, typer.Argument(help="The CSV file to import.", show_default=False)],
    file_format: Annotated[
        DirectoryFormat,
        typer.Option("--format", help="auto (from the header), csv (documented) or nppes (npidata_pfile)."),
    ] = DirectoryFormat.auto,
) -> None:
    """Import the retail pharmacy directory (documented CSV or NPPES NPI data file)."""
    settings = settings_or_exit()
    result: ImportResult = run_with_runtime(
        settings, lambda runtime: import_directory(runtime, file, file_format)
    )
    stats = result.stats
    for problem in stats.problems:
        typer.echo(f"skipped {problem}", err=True)
    line = (
        f"{file.name} ({result.file_format.value}): read {stats.read}, imported {result.imported}, "
        f"skipped {stats.skipped}"
    )
    if result.file_format == DirectoryFormat.nppes:
        line += f", deactivated {result.deactivated}"
    typer.echo(line)
