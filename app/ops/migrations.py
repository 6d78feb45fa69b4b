"""Running and inspecting Alembic migrations from code (CLI, start-up checks, tests)."""

from __future__ import annotations

from functools import cache

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from app.config import ROOT_DIR


def alembic_config(database_url: str | None = None) -> Config:
    config = Config(str(ROOT_DIR / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT_DIR / "migrations"))
    if database_url:
        config.attributes["database_url"] = database_url
    config.attributes["configure_logger"] = False
    return config


@cache
def head_revision() -> str:
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    return heads[0] if len(heads) == 1 else ",".join(sorted(heads))


def upgrade(database_url: str | None = None, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str | None = None, revision: str = "base") -> None:
    command.downgrade(alembic_config(database_url), revision)


# Objects that migrations create with raw SQL and the models do not describe: the spatial and
# text indexes of places (SQLite R*Tree and FTS5 tables with their shadow tables, PostgreSQL
# GiST/GIN expression indexes). Autogenerate and the schema test leave them alone.
DATABASE_SIDE_PREFIXES = (
    "place_rtree",
    "place_fts",
    "ix_place_earth",
    "ix_place_search",
    "procedure_fts",
    "ix_procedure_search",
)


def include_name(name: str | None, type_: str, _parent_names: object) -> bool:
    return not (name and name.startswith(DATABASE_SIDE_PREFIXES))
