"""Exit 0 when the PostgreSQL server at argv[1] answers, 1 otherwise (used by ``make test``)."""

from __future__ import annotations

import asyncio
import sys

import asyncpg


async def _answers(url: str) -> bool:
    try:
        connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"), timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    await connection.close()
    return True


if __name__ == "__main__":
    sys.exit(0 if asyncio.run(_answers(sys.argv[1])) else 1)
