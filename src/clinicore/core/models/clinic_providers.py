"""Which of the network's providers a clinic works with: the providers its console manages (adds,
licenses, marks medical director, deactivates). A provider account is made by one clinic's console and
listed there; the provider desk's queue is still the network's (every clinic's exams in the states the
provider is licensed in)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from clinicore.core.models.base import Base


class ClinicProvider(Base):
    __tablename__ = "clinic_providers"

    clinic_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("clinics.id", ondelete="CASCADE"), primary_key=True
    )
    provider_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("providers.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime]
