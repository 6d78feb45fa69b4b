"""Tests for the notifications package (push delivery)."""
