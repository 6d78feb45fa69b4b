"""The framework ceiling: a bare FastAPI app with one trivial JSON endpoint.

It is served exactly the way `citizen-hub serve` serves the real application (uvicorn, 1 worker,
uvicorn's default loop and HTTP implementations, no server header, no proxy headers, no logging
config) except that the access log is off. Whatever the real app reaches is measured against what
this app reaches on the same machine in the same run.

    .venv/bin/python bench/ceiling_app.py --port 8100
"""

from __future__ import annotations

import argparse

from fastapi import FastAPI

app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)


@app.get("/ping")
async def ping() -> dict[str, str]:
    return {"status": "ok"}


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    args = parser.parse_args()
    # Same settings as app.cli.serve (workers=1, reload off), plus access_log=False.
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        workers=1,
        proxy_headers=False,
        server_header=False,
        log_config=None,
        access_log=False,
    )


if __name__ == "__main__":
    main()
