"""Saving procedures: search keys, the typo vocabulary, upserts that change nothing twice."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.procedures import service
from app.procedures.models import ProcedureTerm
from tests.builders import create_procedure, procedure_in


async def test_saving_folds_names_fields_and_body_into_search_keys(session: AsyncSession) -> None:
    procedure = await create_procedure(session)
    assert procedure.search_name.startswith("dang ky thanh lap ho kinh doanh")
    assert "registering a household business" in procedure.search_name
    assert "ho kinh doanh" in procedure.search_field
    assert "giay de nghi" in procedure.search_body and "168/2025/nd-cp" in procedure.search_body
    assert procedure.fee_total_vnd == 100_000
    terms = set(await session.scalars(select(ProcedureTerm.term)))
    assert {"dang", "kinh", "doanh", "household"} <= terms
    assert "ky" not in terms  # too short to correct


async def test_saving_the_same_record_twice_changes_nothing(session: AsyncSession) -> None:
    await create_procedure(session)
    again = await service.save_procedure(session, None, procedure_in())
    assert (again.created, again.changed) == (False, False)
    changed = await service.save_procedure(session, None, procedure_in(processing_days=5))
    assert (changed.created, changed.changed) == (False, True)
    assert changed.procedure.processing_days == 5


def test_online_must_agree_with_the_ways_to_submit() -> None:
    with pytest.raises(ValueError, match="does not list online"):
        procedure_in(channels=["in_person"])
    with pytest.raises(ValueError, match="online is none"):
        procedure_in(online="none")
