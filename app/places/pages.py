"""Placeholder: filled in by the places work."""

from fastapi import APIRouter

router = APIRouter()
