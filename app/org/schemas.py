from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.kit.text import nfc


class DepartmentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name_vi: str
    name_en: str


class DepartmentCreate(BaseModel):
    code: str = Field(pattern=r"^[a-z0-9_-]{2,40}$")
    name_vi: str = Field(min_length=2, max_length=200)
    name_en: str = Field(min_length=2, max_length=200)

    @field_validator("name_vi", "name_en")
    @classmethod
    def _nfc(cls, value: str) -> str:
        return nfc(value)


class WardRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    kind: str
    district: str
