"""Which GETs the shared response cache may answer before routing."""

from __future__ import annotations

from app.kit.cache import PublicCacheMiddleware, ResponseCache


def test_exact_paths_and_one_segment_wildcards() -> None:
    middleware = PublicCacheMiddleware(
        app=None,
        cache=ResponseCache(None),
        paths={"/api/v1/procedures", "/api/v1/procedures/*"},
    )
    assert middleware._covers("/api/v1/procedures")
    assert middleware._covers("/api/v1/procedures/2.000720")
    # A staff-only sub-resource is never answered from the public cache.
    assert not middleware._covers("/api/v1/procedures/2.000720/history")
    assert not middleware._covers("/api/v1/procedures/")
    assert not middleware._covers("/api/v1/procedures-extra")
