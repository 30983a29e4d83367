"""All pharmacy queries. Partner pharmacies belong to the network; what a clinic sees of them goes
through its own exams (``partner_pharmacy_exams`` and ``order_sets`` carry the clinic id)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, delete, exists, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.models import (
    Exam,
    OrderSet,
    OrderSetItem,
    PartnerPharmacy,
    PartnerPharmacyExam,
    PartnerPharmacyState,
    RetailPharmacy,
)

# Columns an import refreshes on an existing directory entry (the key columns are handled apart).
RETAIL_REFRESHED = (
    "name",
    "name_key",
    "address_line_1",
    "address_line_2",
    "city",
    "state",
    "zip_code",
    "phone",
    "fax",
    "pharmacy_type",
    "taxonomy_code",
    "source",
    "is_active",
    "updated_at",
)


# --- partner network ------------------------------------------------------------------------------


async def get_partner_pharmacy(session: AsyncSession, *, pharmacy_id: int) -> PartnerPharmacy | None:
    return await session.get(PartnerPharmacy, pharmacy_id)


async def get_partner_pharmacy_by_name(session: AsyncSession, *, name: str) -> PartnerPharmacy | None:
    return await session.scalar(
        select(PartnerPharmacy).where(PartnerPharmacy.name == name).order_by(PartnerPharmacy.id).limit(1)
    )


async def get_exam_link(
    session: AsyncSession, *, clinic_id: uuid.UUID, pharmacy_id: int, exam_id: int
) -> PartnerPharmacyExam | None:
    return await session.scalar(
        select(PartnerPharmacyExam).where(
            PartnerPharmacyExam.clinic_id == clinic_id,
            PartnerPharmacyExam.pharmacy_id == pharmacy_id,
            PartnerPharmacyExam.exam_id == exam_id,
        )
    )


async def next_exam_pos_id(session: AsyncSession, *, first: int) -> int:
    highest = await session.scalar(select(func.max(OrderSet.exam_pos_id)))
    return max(first, (highest or 0) + 1)


def _ships_to(state: str | None) -> Any:
    """``True`` when ``state`` is None (any state), else the pharmacy ships there."""
    if state is None:
        return True
    return exists(
        select(PartnerPharmacyState.pharmacy_id).where(
            PartnerPharmacyState.pharmacy_id == PartnerPharmacy.id, PartnerPharmacyState.state == state
        )
    )


def _clinic_exam(clinic_id: uuid.UUID, exam_column: Any) -> Any:
    return and_(Exam.id == exam_column, Exam.clinic_id == clinic_id, Exam.is_active.is_(True))


async def pharmacies_serving(
    session: AsyncSession, *, clinic_id: uuid.UUID, exam_ids: Iterable[int], state: str | None
) -> Sequence[tuple[PartnerPharmacy, int]]:
    """(pharmacy, exam id) pairs: active pharmacies linked to the clinic's active exams among
    ``exam_ids`` that ship to ``state`` (None: any state), by pharmacy id then exam id."""
    query = (
        select(PartnerPharmacy, PartnerPharmacyExam.exam_id)
        .join(PartnerPharmacyExam, PartnerPharmacyExam.pharmacy_id == PartnerPharmacy.id)
        .join(Exam, _clinic_exam(clinic_id, PartnerPharmacyExam.exam_id))
        .where(
            PartnerPharmacyExam.clinic_id == clinic_id,
            PartnerPharmacyExam.exam_id.in_(set(exam_ids)),
            PartnerPharmacy.is_active.is_(True),
            _ships_to(state),
        )
        .order_by(PartnerPharmacy.id, PartnerPharmacyExam.exam_id)
    )
    return [(pharmacy, exam_id) for pharmacy, exam_id in (await session.execute(query)).all()]


async def order_sets_of(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    pharmacy_ids: Iterable[int],
    exam_ids: Iterable[int],
    state: str | None,
) -> Sequence[tuple[OrderSet, PartnerPharmacy]]:
    """Active order sets of active, linked pharmacies shipping to ``state`` for the clinic's exams."""
    query = (
        select(OrderSet, PartnerPharmacy)
        .join(PartnerPharmacy, PartnerPharmacy.id == OrderSet.pharmacy_id)
        .join(Exam, _clinic_exam(clinic_id, OrderSet.exam_id))
        .join(
            PartnerPharmacyExam,
            and_(
                PartnerPharmacyExam.pharmacy_id == OrderSet.pharmacy_id,
                PartnerPharmacyExam.exam_id == OrderSet.exam_id,
                PartnerPharmacyExam.clinic_id == clinic_id,
            ),
        )
        .where(
            OrderSet.clinic_id == clinic_id,
            OrderSet.exam_id.in_(set(exam_ids)),
            OrderSet.pharmacy_id.in_(set(pharmacy_ids)),
            OrderSet.is_active.is_(True),
            PartnerPharmacy.is_active.is_(True),
            _ships_to(state),
        )
        .order_by(OrderSet.pharmacy_id, OrderSet.exam_id, OrderSet.id)
    )
    return [(order_set, pharmacy) for order_set, pharmacy in (await session.execute(query)).all()]


async def items_of(session: AsyncSession, *, order_set_ids: Iterable[int]) -> Sequence[OrderSetItem]:
    ids = set(order_set_ids)
    if not ids:
        return []
    result = await session.scalars(
        select(OrderSetItem)
        .where(OrderSetItem.order_set_id.in_(ids))
        .order_by(OrderSetItem.order_set_id, OrderSetItem.position)
    )
    return result.all()


async def find_order_set(
    session: AsyncSession, *, clinic_id: uuid.UUID, order_set_id: int | None, exam_pos_id: int | None
) -> OrderSet | None:
    if order_set_id is not None:
        condition = OrderSet.id == order_set_id
    elif exam_pos_id is not None:
        condition = OrderSet.exam_pos_id == exam_pos_id
    else:
        return None
    return await session.scalar(select(OrderSet).where(condition, OrderSet.clinic_id == clinic_id))


async def order_sets_for_exam(
    session: AsyncSession, *, clinic_id: uuid.UUID, pharmacy_id: int, exam_id: int
) -> Sequence[OrderSet]:
    result = await session.scalars(
        select(OrderSet)
        .where(
            OrderSet.clinic_id == clinic_id, OrderSet.pharmacy_id == pharmacy_id, OrderSet.exam_id == exam_id
        )
        .order_by(OrderSet.id)
    )
    return result.all()


# --- retail directory -----------------------------------------------------------------------------


def _like_escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def search_retail(
    session: AsyncSession,
    *,
    name_key: str | None,
    zip_code: str | None,
    ncpdpid: str | None,
    limit: int,
) -> Sequence[RetailPharmacy]:
    """Active directory entries matching every filter given; names starting with the search first."""
    query = select(RetailPharmacy).where(RetailPharmacy.is_active.is_(True))
    order: list[Any] = []
    if name_key:
        escaped = _like_escaped(name_key)
        query = query.where(RetailPharmacy.name_key.like(f"%{escaped}%", escape="\\"))
        order.append(case((RetailPharmacy.name_key.like(f"{escaped}%", escape="\\"), 0), else_=1))
    if zip_code:
        query = query.where(RetailPharmacy.zip_code == zip_code)
    if ncpdpid:
        query = query.where(RetailPharmacy.ncpdpid == ncpdpid)
    order += [RetailPharmacy.name_key, RetailPharmacy.address_line_1, RetailPharmacy.id]
    return (await session.scalars(query.order_by(*order).limit(limit))).all()


async def get_retail_by_ncpdpid(session: AsyncSession, *, ncpdpid: str) -> RetailPharmacy | None:
    return await session.scalar(select(RetailPharmacy).where(RetailPharmacy.ncpdpid == ncpdpid))


def _dialect_insert(session: AsyncSession) -> Any:
    name = session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert(RetailPharmacy)
    if name == "sqlite":
        return sqlite.insert(RetailPharmacy)
    raise RuntimeError(f"no upsert for the {name} dialect")


async def upsert_retail(
    session: AsyncSession, *, rows: Sequence[Mapping[str, Any]], key: str, refresh: Sequence[str]
) -> None:
    """``INSERT ... ON CONFLICT (key) DO UPDATE`` the rows (each row carries every column, keys
    distinct within ``rows``): one statement executed for the whole batch."""
    if not rows:
        return
    statement = _dialect_insert(session)
    statement = statement.on_conflict_do_update(
        index_elements=[key], set_={column: getattr(statement.excluded, column) for column in refresh}
    )
    await session.execute(statement, list(rows))


async def retail_keys(
    session: AsyncSession, *, npis: Iterable[str], ncpdpids: Iterable[str]
) -> Sequence[tuple[uuid.UUID, str | None, str | None]]:
    """(id, npi, ncpdpid) of the entries holding any of these identifiers."""
    npi_set, ncpdpid_set = set(npis), set(ncpdpids)
    if not npi_set and not ncpdpid_set:
        return []
    result = await session.execute(
        select(RetailPharmacy.id, RetailPharmacy.npi, RetailPharmacy.ncpdpid).where(
            or_(RetailPharmacy.npi.in_(npi_set), RetailPharmacy.ncpdpid.in_(ncpdpid_set))
        )
    )
    return [(row_id, npi, ncpdpid) for row_id, npi, ncpdpid in result.all()]


async def set_retail_keys(
    session: AsyncSession, *, entry_id: uuid.UUID, npi: str | None, ncpdpid: str | None
) -> None:
    await session.execute(
        update(RetailPharmacy).where(RetailPharmacy.id == entry_id).values(npi=npi, ncpdpid=ncpdpid)
    )


async def delete_retail(session: AsyncSession, *, entry_ids: Iterable[uuid.UUID]) -> None:
    ids = set(entry_ids)
    if ids:
        await session.execute(delete(RetailPharmacy).where(RetailPharmacy.id.in_(ids)))


async def deactivate_retail_by_npi(session: AsyncSession, *, npis: Iterable[str], now: datetime) -> int:
    npi_set = set(npis)
    if not npi_set:
        return 0
    result = await session.execute(
        update(RetailPharmacy)
        .where(RetailPharmacy.npi.in_(npi_set), RetailPharmacy.is_active.is_(True))
        .values(is_active=False, updated_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)
