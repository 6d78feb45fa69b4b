"""Placeholder: filled in by the events work."""

from fastapi import APIRouter

router = APIRouter()
