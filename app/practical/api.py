"""Placeholder: filled in by the practical work."""

from fastapi import APIRouter

router = APIRouter()
