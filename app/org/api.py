from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, status

from app.auth.deps import AdminUser
from app.db import SessionDep
from app.errors import NotFound
from app.kit.i18n import gettext as _
from app.org import repository as repo
from app.org import service
from app.org.schemas import DepartmentCreate, DepartmentRead, WardRead

router = APIRouter(prefix="/api/v1", tags=["organisation"])


@router.get(
    "/departments", response_model=list[DepartmentRead], summary="The province's departments"
)
async def departments(session: SessionDep) -> Any:
    return await repo.list_departments(session)


@router.post(
    "/departments",
    response_model=DepartmentRead,
    status_code=status.HTTP_201_CREATED,
    summary="Add a department (admins)",
)
async def create_department(data: DepartmentCreate, actor: AdminUser, session: SessionDep) -> Any:
    return await service.create_department(session, data)


@router.get("/wards", response_model=list[WardRead], summary="Wards and communes")
async def wards(
    session: SessionDep,
    q: Annotated[
        str | None, Query(max_length=100, description="Accent-insensitive name filter")
    ] = None,
) -> Any:
    """Every ward and commune, for choosing a place from a list instead of a map."""
    return await service.search_wards(session, q)


@router.get("/wards/locate", response_model=WardRead, summary="Which ward holds a point")
async def locate(
    session: SessionDep,
    lat: Annotated[float, Query(ge=-90, le=90)],
    lon: Annotated[float, Query(ge=-180, le=180)],
) -> Any:
    ward = await service.locate_ward(session, lat, lon)
    if ward is None:
        raise NotFound(_("This point is outside every ward and commune we know."))
    return ward
