"""The reports world (departments, wards, services, staff, a citizen) for inbox tests."""

from tests.reports.conftest import World, world

__all__ = ["World", "world"]
