"""What bench/places.py and bench/procedures.py share: the ceiling run, the app server over a
loaded database, and wrk cycling through many paths."""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import shutil
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench import run as harness

ROOT = Path(__file__).resolve().parent.parent

CYCLE_LUA = r"""
-- bench/common.py: each request asks for the next path of this list. Thread k starts k/N of
-- the way along it, so the threads never ask for the same paths at the same moment.
local paths = {
@PATHS@
}

local base_setup = setup
function setup(thread)
  base_setup(thread)
  thread:set("first", (#threads - 1) * math.floor(#paths / @THREADS@))
end

sent = 0
function request()
  local path = paths[(first + sent) % #paths + 1]
  sent = sent + 1
  return wrk.format(nil, path)
end
"""


def measure_ceiling(args: argparse.Namespace, workdir: Path) -> harness.Result:
    """The bare ASGI app's req/s on this machine: every HTTP figure is read against it."""
    port = harness.free_port()
    argv = [sys.executable, str(ROOT / "bench" / "ceiling_app.py"), "--port", str(port)]
    server = harness.Server(
        "ceiling app", argv, harness.base_env(), workdir, workdir / "ceiling.log", port, "/ping"
    )
    try:
        server.start()
        ceiling = harness.measure(harness.CEILING, "ceiling", port, args, workdir)
    finally:
        server.stop()
    if ceiling.problems:
        raise harness.BenchError(
            "the ceiling could not be measured:\n" + "\n".join(ceiling.problems)
        )
    ceiling.ratio = 1.0
    harness.log(f"ceiling: {ceiling.rps:,.0f} req/s, p50 {ceiling.p50_ms:.2f} ms")
    return ceiling


def app_server(
    what: str, database: str, url: str, args: argparse.Namespace, workdir: Path
) -> harness.Server:
    """`citizen-hub serve` (one worker) over the database at `url`, not started yet."""
    env = harness.base_env()
    env.update(harness.SERVER_ENV)
    env["CITIZENHUB_SECRET_KEY"] = secrets.token_urlsafe(48)
    env["CITIZENHUB_UPLOAD_DIR"] = str(workdir / f"uploads-{database}")
    env.update(item.split("=", 1) for item in args.server_env)
    env["CITIZENHUB_DATABASE_URL"] = url
    port = harness.free_port()
    return harness.Server(
        f"citizen-hub serve ({database}, {what})",
        harness.cli_argv("serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"),
        env,
        workdir,
        workdir / f"server-{database}.log",
        port,
        "/healthz",
    )


def _answered(status: int, _body: bytes) -> bool:
    return status == 200


def measure_cycle(
    name: str,
    database: str,
    port: int,
    paths: list[str],
    args: argparse.Namespace,
    workdir: Path,
    note: str,
    *,
    target: float | None = None,
    unit: str = "paths",
    accept: Callable[[int, bytes], bool] = _answered,
) -> harness.Result:
    """wrk over many paths: run.py's script (non-2xx counting, JSON summary) plus a request()
    that cycles through them. The first path is asked once first; `accept(status, body)` says
    whether its answer is one worth measuring."""
    threads = max(1, min(args.threads, args.connections))
    result = harness.Result(
        name, database, "GET", paths[0], args.connections, threads, target=target, note=note
    )
    status, body = harness.request(port, "GET", paths[0])
    if not accept(status, body):
        result.problems.append(f"first request answered {status}: {body[:300]!r}")
        return result
    script = workdir / f"{database}-{name}.lua"
    harness.write_lua(script, harness.Scenario(name, paths[0]), {})
    with script.open("a") as lua:
        lua.write(
            CYCLE_LUA.replace("@PATHS@", ",\n".join(map(harness.lua_string, paths))).replace(
                "@THREADS@", str(threads)
            )
        )
    url = f"http://127.0.0.1:{port}/"
    wrk = {"connections": args.connections, "threads": threads, "timeout_s": args.timeout}
    try:
        if args.warmup > 0:
            harness.run_wrk(args.wrk, url, script, seconds=args.warmup, **wrk)
        harness.log(f"[{database}] {name}: {len(paths):,} {unit}, {args.duration:g} s")
        data = harness.run_wrk(args.wrk, url, script, seconds=args.duration, **wrk)
    except harness.BenchError as exc:
        result.problems.append(str(exc))
        return result
    latency = data["latency_us"]
    result.duration_s = data["duration_us"] / 1e6
    result.requests = int(data["requests"])
    result.rps = result.requests / result.duration_s
    result.p50_ms, result.p99_ms = latency["p50"] / 1000, latency["p99"] / 1000
    result.p90_ms, result.mean_ms = latency["p90"] / 1000, latency["mean"] / 1000
    result.non2xx = int(data["non2xx"])
    result.socket_errors = {k: int(v) for k, v in data["errors"].items() if v and k != "status"}
    if result.non2xx or result.socket_errors or not result.requests:
        result.problems.append(
            f"{result.non2xx} non-2xx, socket errors {result.socket_errors}, "
            f"{result.requests} requests; first body: {data['sample'][:300]}"
        )
    return result


def missed_targets(http: list[harness.Result]) -> list[str]:
    """The PostgreSQL HTTP scenarios below their req/s target (a ratio of the ceiling)."""
    return [
        f"postgres {r.scenario}: {r.ratio or 0:.3f} < {r.target:.2f}"
        for r in http
        if r.database == "postgres" and r.target and (r.ratio or 0) < r.target
    ]


def finish(
    args: argparse.Namespace,
    report: dict[str, Any],
    *,
    ceiling: harness.Result | None,
    loads: list[Any],
    timings: list[Any],
    http: list[harness.Result],
    missed: list[str],
    errors: list[str],
) -> int:
    """Print the failures and missed targets, write --json, and say the exit status: 1 when
    anything failed, or with --strict when a target was missed."""
    failures = [f"{r.database}/{r.scenario}: {p}" for r in http for p in r.problems] + errors
    for failure in failures:
        print(f"\nFAILED {failure}", file=sys.stderr)
    if missed:
        print("\nTargets missed: " + "; ".join(missed))
    report.update(
        ceiling=asdict(ceiling) if ceiling else None,
        loads=[asdict(x) for x in loads],
        timings=[asdict(t) for t in timings],
        http=[asdict(r) for r in http],
        missed=missed,
        failures=failures,
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
        harness.log(f"results written to {args.json}")
    if failures:
        return 1
    return 1 if args.strict and missed else 0


def wrk_arguments(p: argparse.ArgumentParser) -> None:
    """--duration, --warmup, --connections, --threads, --timeout: how wrk measures."""
    p.add_argument("--duration", type=float, default=10, help="seconds of each wrk measurement")
    p.add_argument("--warmup", type=float, default=2, help="unmeasured wrk seconds first")
    p.add_argument("--connections", type=int, default=32, help="wrk connections")
    p.add_argument("--threads", type=int, default=2, help="wrk threads")
    p.add_argument("--timeout", type=float, default=10, help="wrk per-request timeout, seconds")


def closing_arguments(p: argparse.ArgumentParser) -> None:
    """run.py's common options, then --strict, --keep-workdir and --wrk."""
    harness.common_arguments(p)
    p.add_argument("--strict", action="store_true", help="also exit 1 when a target is missed")
    p.add_argument("--keep-workdir", action="store_true", help="keep logs, Lua scripts, SQLite")
    p.add_argument("--wrk", default=shutil.which("wrk") or "/usr/bin/wrk")


def check_http_arguments(p: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """--server-env items are KEY=VALUE, and wrk is there unless --no-http."""
    for item in args.server_env:
        if "=" not in item:
            p.error(f"--server-env wants KEY=VALUE, got {item!r}")
    if not args.no_http and not Path(args.wrk).exists():
        p.error(f"wrk not found at {args.wrk} (apt-get install -y --no-upgrade wrk)")


def start(args: argparse.Namespace, settings: tuple[str, ...], **extra: Any) -> dict[str, Any]:
    """Stop servers and drop databases on SIGTERM/SIGHUP too; the report's opening fields."""
    for signum in (signal.SIGTERM, signal.SIGHUP):  # unwind: stop servers, drop databases
        signal.signal(signum, harness._terminate)
    return {
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "loadavg_at_start": os.getloadavg(),
        "machine": f"{os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"{platform.platform()}",
        "settings": {k: getattr(args, k) for k in settings} | {"quick": args.quick, **extra},
    }
