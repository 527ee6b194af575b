"""Postcode geometry and the anonymous search demand log."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base, utcnow


class Postcode(Base):
    """A postcode's centre, from the ONS Postcode Directory or from a listing's own location."""

    __tablename__ = "postcodes"

    postcode: Mapped[str] = mapped_column(sa.String(8), primary_key=True)  # normalised: "HP21 7JF"
    outward_code: Mapped[str] = mapped_column(sa.String(4), index=True)
    latitude: Mapped[float]
    longitude: Mapped[float]
    source: Mapped[str] = mapped_column(sa.String(20), default="onspd")
    terminated: Mapped[bool] = mapped_column(default=False)


class SearchLog(Base):
    """One search, recorded anonymously for commissioners: no IP address, no account, only the outward code."""

    __tablename__ = "search_log"

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True)
    searched_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    text: Mapped[str] = mapped_column(sa.String(500), default="")
    filters: Mapped[dict | None] = mapped_column(sa.JSON)
    outward_code: Mapped[str | None] = mapped_column(sa.String(4))
    result_count: Mapped[int] = mapped_column(default=0)
    language: Mapped[str] = mapped_column(sa.String(5), default="en")
