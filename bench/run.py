"""HTTP benchmark: the real application against the bare-framework ceiling, measured with wrk.

    .venv/bin/python bench/run.py [--db sqlite|postgres|both] [--duration 10] [--connections 32]
                                  [--threads 2] [--only NAME[,NAME]] [--json FILE]

One run: start bench/ceiling_app.py and measure GET /ping; stop it. Then for each database:
create a fresh one (SQLite temporary file, or a throwaway PostgreSQL database), `citizen-hub
migrate` and `citizen-hub seed-demo` it, start `citizen-hub serve` (1 worker), measure every
scenario, stop the server and drop the database. Prints one table per database; each
scenario's ratio is its requests/s divided by the ceiling's. Exits 1 if any scenario answered
anything other than 2xx, had socket errors or timeouts, or could not be measured.

Add a scenario by adding one `Scenario(...)` to SCENARIOS below. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # .venv/bin when run as .venv/bin/python bench/run.py
DEMO_PASSWORD = "Demo-YenBai-2026"  # noqa: S105 - the public demo password (app/demo/loader.py)
CITIZEN = "citizen@demo.citizenhub.vn"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
JSON_MARK = "@@BENCH@@ "
READY_TIMEOUT_S = 30.0


@dataclass
class Scenario:
    """One thing to measure. `connections` None means the --connections option. `as_user` is a
    demo account e-mail: the script signs in once beforehand and sends its access token as
    `Authorization: Bearer ...`. `target` is the ratio (req/s ÷ ceiling req/s) the project
    expects on PostgreSQL; None means no target."""

    name: str
    path: str
    method: str = "GET"
    body: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    connections: int | None = None
    as_user: str | None = None
    target: float | None = None
    note: str = ""


# The registry. Later work adds one entry per endpoint worth watching, for example:
#   Scenario("places-nearby", "/api/v1/places/nearby?lat=21.72&lon=104.91&radius_m=2000",
#            target=0.40),
#   Scenario("me", "/api/v1/me", as_user=CITIZEN, target=0.40),
SCENARIOS: list[Scenario] = [
    Scenario(
        "healthz",
        "/healthz",
        note="every middleware, no database: what the application shell costs",
    ),
    Scenario(
        "readyz",
        "/readyz",
        note="database and migration check, at most once a second per worker",
    ),
    Scenario(
        "report-submit",
        "/api/v1/reports",
        method="POST",
        body=json.dumps(
            {
                "service_code": "street_light",
                "description": "Đèn đường trước số 12 Nguyễn Thái Học bị tắt",
                "lat": 21.7101,
                "lon": 104.8731,
                "attributes": {"pole_state": "off"},
            }
        ),
        headers={"Content-Type": "application/json"},
        note="anonymous JSON submission, no photos: ward lookup, deadline, timeline, one commit",
    ),
    Scenario(
        "reports-near",
        "/api/v1/reports?bbox=104.860,21.690,104.900,21.720&page_size=20",
        target=0.40,
        note="public reports near a point (bounding box), 20 per page",
    ),
    Scenario(
        "procedures-search",
        "/api/v1/procedures?q=dang+ky+ho+kinh+doanh",
        target=0.40,
        note="procedure search, the same words asked by everyone: the shared response cache "
        "answers (bench/procedures.py measures distinct queries over 20,000 procedures)",
    ),
    Scenario(
        "procedure-checklist",
        "/api/v1/procedures/2.000720",
        note="one procedure's whole checklist (three queries, no response cache; ETag)",
    ),
    Scenario(
        "login",
        "/api/v1/auth/token",
        method="POST",
        body=urlencode({"username": CITIZEN, "password": DEMO_PASSWORD}),
        headers=FORM,
        connections=4,
        note="4 connections: each request is one argon2id verification (CPU-bound by design)",
    ),
]

CEILING = Scenario("ceiling", "/ping", note="bench/ceiling_app.py: bare FastAPI, no database")

# The bench server's settings; everything else is the application's default. Inherited
# CITIZENHUB_* variables are dropped so a developer's shell or .env cannot skew the numbers
# (use --server-env to experiment).
SERVER_ENV = {
    "CITIZENHUB_ENVIRONMENT": "development",
    "CITIZENHUB_LOG_LEVEL": "WARNING",
    "CITIZENHUB_RATE_LIMIT_READ_PER_MINUTE": "100000000",
    "CITIZENHUB_RATE_LIMIT_WRITE_PER_MINUTE": "100000000",
    "CITIZENHUB_LOGIN_ATTEMPTS_PER_ACCOUNT": "100000000",
    "CITIZENHUB_LOGIN_ATTEMPTS_PER_IP": "100000000",
    "CITIZENHUB_REPORT_SUBMISSIONS_PER_MINUTE": "100000000",
    "CITIZENHUB_PRINT_DEMO_CREDENTIALS": "false",
}


class BenchError(Exception):
    pass


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# wrk


def lua_string(value: str) -> str:
    out = []
    for byte in value.encode():
        char = chr(byte)
        if char in '"\\' or not 32 <= byte < 127:
            out.append(f"\\{byte:03d}")  # three digits: "\\34" then a digit would read as "\\34x"
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


LUA_TEMPLATE = r"""-- Generated by bench/run.py for scenario %(name)s.
wrk.method = %(method)s
%(body)s%(headers)s
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

-- Per-thread counters (each wrk thread has its own Lua state); done() gathers them.
non2xx = 0
codes = {}
sample = ""

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    local key = tostring(status)
    codes[key] = (codes[key] or 0) + 1
    if sample == "" and body then
      sample = string.sub(body, 1, 400)
    end
  end
end

local function quote(s)
  s = string.gsub(s, '[%%c"\\]', function(c) return string.format("\\u%%04x", string.byte(c)) end)
  return '"' .. s .. '"'
end

function done(summary, latency, requests)
  local n, merged, first = 0, {}, ""
  for _, t in ipairs(threads) do
    n = n + (t:get("non2xx") or 0)
    local tc = t:get("codes")
    if tc then
      for k, v in pairs(tc) do merged[k] = (merged[k] or 0) + v end
    end
    local ts = t:get("sample")
    if first == "" and ts then first = ts end
  end
  local parts = {}
  for k, v in pairs(merged) do table.insert(parts, quote(k) .. ":" .. v) end
  local e = summary.errors
  io.write(string.format(
    '%(mark)s{"duration_us":%%.0f,"requests":%%.0f,"bytes":%%.0f,' ..
    '"errors":{"connect":%%.0f,"read":%%.0f,"write":%%.0f,"status":%%.0f,"timeout":%%.0f},' ..
    '"latency_us":{"min":%%.0f,"mean":%%.1f,"stdev":%%.1f,"max":%%.0f,' ..
    '"p50":%%.0f,"p75":%%.0f,"p90":%%.0f,"p99":%%.0f,"p999":%%.0f},' ..
    '"non2xx":%%.0f,"codes":{%%s},"sample":%%s}\n',
    summary.duration, summary.requests, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.min, latency.mean, latency.stdev, latency.max,
    latency:percentile(50), latency:percentile(75), latency:percentile(90),
    latency:percentile(99), latency:percentile(99.9),
    n, table.concat(parts, ","), quote(first)))
end
"""


def write_lua(path: Path, scenario: Scenario, headers: dict[str, str]) -> None:
    body = f"wrk.body = {lua_string(scenario.body)}\n" if scenario.body is not None else ""
    lines = "".join(f"wrk.headers[{lua_string(k)}] = {lua_string(v)}\n" for k, v in headers.items())
    path.write_text(
        LUA_TEMPLATE
        % {
            "name": scenario.name,
            "method": lua_string(scenario.method),
            "body": body,
            "headers": lines,
            "mark": JSON_MARK,
        }
    )


def run_wrk(
    wrk: str,
    url: str,
    script: Path,
    *,
    seconds: float,
    connections: int,
    threads: int,
    timeout_s: float,
) -> dict[str, Any]:
    argv = [
        wrk,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        f"--timeout={timeout_s:g}s",
        "--latency",
        "-s",
        str(script),
        url,
    ]
    proc = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        errors="replace",
        timeout=seconds + timeout_s + 60,
        check=False,
    )
    for line in proc.stdout.splitlines():
        if line.startswith(JSON_MARK):
            data: dict[str, Any] = json.loads(line[len(JSON_MARK) :])
            data["raw"] = proc.stdout
            return data
    raise BenchError(f"wrk exited {proc.returncode} without results:\n{proc.stdout}{proc.stderr}")


# --------------------------------------------------------------------------------------------
# Servers, databases, requests


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def request(
    port: int,
    method: str,
    path: str,
    body: str | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30.0,
) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


class Server:
    """A server process in its own session, so Ctrl-C reaches us (and wrk), not it; we stop it."""

    def __init__(
        self,
        name: str,
        argv: list[str],
        env: dict[str, str],
        cwd: Path,
        log_path: Path,
        port: int,
        ready_path: str,
    ) -> None:
        self.name, self.argv, self.env, self.cwd = name, argv, env, cwd
        self.log_path, self.port, self.ready_path = log_path, port, ready_path
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log(f"starting {self.name} on 127.0.0.1:{self.port}")
        with self.log_path.open("ab") as out:
            self.proc = subprocess.Popen(
                self.argv,
                env=self.env,
                cwd=self.cwd,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(
                    f"{self.name} exited with {self.proc.returncode} before it was "
                    f"ready:\n{self.log_tail()}"
                )
            with contextlib.suppress(OSError, http.client.HTTPException):
                if request(self.port, "GET", self.ready_path, timeout=1.0)[0] == 200:
                    return
            time.sleep(0.1)
        raise BenchError(
            f"{self.name} not ready after {READY_TIMEOUT_S:.0f} s "
            f"(GET {self.ready_path}):\n{self.log_tail()}"
        )

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        log(f"stopping {self.name} (pid {proc.pid})")
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return summarise_log(text, lines) or "(empty log)"


_EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt|Warning)\b")


def summarise_log(text: str, limit: int) -> str:
    """The server logs JSON lines with whole tracebacks: keep level, logger, message and the
    final exception line of each record, count repeats, and show the last `limit` of them."""
    seen: dict[str, int] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        if isinstance(record, dict):
            line = (
                f"{record.get('level', '?')} {record.get('logger', '?')}: "
                f"{str(record.get('message', '')).strip()}"
            )
            trace = [t for t in str(record.get("exc_info") or "").splitlines() if t.strip()]
            if trace:
                found = [t for t in trace if _EXCEPTION_LINE.match(t)]
                line += " | " + (found[-1] if found else trace[-1]).strip()
        line = line if len(line) <= 300 else line[:297] + "..."
        seen[line] = seen.get(line, 0) + 1
    shown = [f"{line}  (x{n})" if n > 1 else line for line, n in seen.items()]
    return "\n".join(shown[-limit:])


def base_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CITIZENHUB_")}
    env["PYTHONUNBUFFERED"] = "1"
    return env


def cli_argv(*args: str) -> list[str]:
    exe = BIN / "citizen-hub"
    if exe.exists():
        return [str(exe), *args]
    return [sys.executable, "-m", "app.cli", *args]


def run_cli(env: dict[str, str], cwd: Path, *args: str) -> None:
    log(f"citizen-hub {' '.join(args)}")
    proc = subprocess.run(
        cli_argv(*args),
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        errors="replace",
        timeout=600,
        check=False,
    )
    if proc.returncode != 0:
        raise BenchError(
            f"citizen-hub {' '.join(args)} exited {proc.returncode}:\n{proc.stdout}{proc.stderr}"
        )


async def _pg_execute(admin_url: str, sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(admin_url, timeout=10)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def pg_create(admin_url: str, name: str) -> None:
    log(f"CREATE DATABASE {name}")
    asyncio.run(_pg_execute(admin_url, f'CREATE DATABASE "{name}"'))


def pg_drop(admin_url: str, name: str) -> None:
    log(f"DROP DATABASE {name}")
    try:
        asyncio.run(_pg_execute(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    except Exception as exc:  # report it, keep cleaning up
        log(f"could not drop database {name}: {exc!r} (drop it by hand)")


def pg_app_url(admin_url: str, name: str) -> str:
    parts = urlsplit(admin_url)
    return urlunsplit(("postgresql+asyncpg", parts.netloc, f"/{name}", parts.query, ""))


# --------------------------------------------------------------------------------------------
# Measuring


@dataclass
class Result:
    scenario: str
    database: str
    method: str
    path: str
    connections: int
    threads: int
    duration_s: float = 0.0
    requests: int = 0
    rps: float = 0.0
    p50_ms: float = 0.0
    p90_ms: float = 0.0
    p99_ms: float = 0.0
    mean_ms: float = 0.0
    max_ms: float = 0.0
    non2xx: int = 0
    status_codes: dict[str, int] = field(default_factory=dict)
    socket_errors: dict[str, int] = field(default_factory=dict)
    ratio: float | None = None
    target: float | None = None
    note: str = ""
    problems: list[str] = field(default_factory=list)
    sample: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems


def sign_in(port: int, email: str) -> str:
    status, body = request(
        port,
        "POST",
        "/api/v1/auth/token",
        urlencode({"username": email, "password": DEMO_PASSWORD}),
        FORM,
    )
    if status != 200:
        raise BenchError(f"signing in as {email} answered {status}: {body[:300]!r}")
    return str(json.loads(body)["access_token"])


def measure(
    scenario: Scenario, database: str, port: int, args: argparse.Namespace, workdir: Path
) -> Result:
    connections = scenario.connections or args.connections
    threads = max(1, min(args.threads, connections))
    result = Result(
        scenario.name,
        database,
        scenario.method,
        scenario.path,
        connections,
        threads,
        target=scenario.target,
        note=scenario.note,
    )
    try:
        headers = dict(scenario.headers)
        if scenario.as_user:
            headers["Authorization"] = f"Bearer {sign_in(port, scenario.as_user)}"
        # One plain request first: a wrong scenario fails here with the server's own answer.
        status, body = request(port, scenario.method, scenario.path, scenario.body, headers)
        if not 200 <= status < 300:
            result.status_codes = {str(status): 1}
            result.non2xx = 1
            result.sample = body[:400].decode(errors="replace")
            result.problems.append(f"first request answered {status}: {result.sample}")
            return result
        script = workdir / f"{database}-{scenario.name}.lua"
        write_lua(script, scenario, headers)
        url = f"http://127.0.0.1:{port}{scenario.path}"
        wrk_args = {"connections": connections, "threads": threads, "timeout_s": args.timeout}
        if args.warmup > 0:
            log(f"[{database}] {scenario.name}: warm-up {args.warmup:g} s")
            run_wrk(args.wrk, url, script, seconds=args.warmup, **wrk_args)
        log(
            f"[{database}] {scenario.name}: {scenario.method} {scenario.path}, "
            f"{args.duration:g} s, {connections} connections, {threads} threads"
        )
        data = run_wrk(args.wrk, url, script, seconds=args.duration, **wrk_args)
    except (BenchError, OSError, http.client.HTTPException, subprocess.SubprocessError) as exc:
        result.problems.append(f"{type(exc).__name__}: {exc}")
        return result

    lat = data["latency_us"]
    result.duration_s = data["duration_us"] / 1e6
    result.requests = int(data["requests"])
    result.rps = result.requests / result.duration_s if result.duration_s else 0.0
    result.p50_ms, result.p90_ms, result.p99_ms = (lat[k] / 1000 for k in ("p50", "p90", "p99"))
    result.mean_ms, result.max_ms = lat["mean"] / 1000, lat["max"] / 1000
    result.non2xx = int(data["non2xx"])
    result.status_codes = {k: int(v) for k, v in data["codes"].items()}
    result.sample = data["sample"]
    errors = data["errors"]
    result.socket_errors = {
        k: int(errors[k]) for k in ("connect", "read", "write", "timeout") if errors[k]
    }
    if result.non2xx:
        codes = ", ".join(f"{n}× {code}" for code, n in sorted(result.status_codes.items()))
        result.problems.append(
            f"{result.non2xx} non-2xx responses ({codes}); first body: {result.sample[:300]}"
        )
    if result.socket_errors:
        result.problems.append(f"socket errors/timeouts: {result.socket_errors}")
    if result.requests == 0:
        result.problems.append("no request completed")
    return result


# --------------------------------------------------------------------------------------------
# Output


def verdict(result: Result, database: str) -> str:
    if result.target is None or result.ratio is None:
        return "-"
    met = result.ratio >= result.target
    if database != "postgres":
        return f">={result.target:.2f} (pg)" if met else f">={result.target:.2f} (pg) below"
    return f">={result.target:.2f} ok" if met else f">={result.target:.2f} BELOW"


def table(title: str, rows: list[Result], database: str) -> str:
    header = [
        "scenario",
        "conns",
        "requests",
        "req/s",
        "p50 ms",
        "p99 ms",
        "non-2xx",
        "ratio",
        "target",
    ]
    body = []
    for r in rows:
        failed = bool(r.problems) and r.requests == 0
        body.append(
            [
                r.scenario + (" FAILED" if r.problems else ""),
                str(r.connections),
                str(r.requests),
                "-" if failed else f"{r.rps:,.0f}",
                "-" if failed else f"{r.p50_ms:.2f}",
                "-" if failed else f"{r.p99_ms:.2f}",
                str(r.non2xx),
                "-" if r.ratio is None else f"{r.ratio:.3f}",
                verdict(r, database),
            ]
        )
    widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header))]

    def fmt(row: list[str]) -> str:
        return "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        )

    lines = [title, fmt(header), "  ".join("-" * w for w in widths), *map(fmt, body)]
    lines += [f"  {r.scenario}: {r.note}" for r in rows if r.note]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Main


def common_arguments(p: argparse.ArgumentParser) -> None:
    """--json, --pg-admin-url and --server-env, as every bench script takes them."""
    p.add_argument("--json", type=Path, metavar="FILE", help="also write the results as JSON")
    p.add_argument(
        "--pg-admin-url",
        default=os.environ.get(
            "BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
        help="where to CREATE/DROP the throwaway database (env BENCH_PG_ADMIN_URL)",
    )
    p.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra environment for citizen-hub (e.g. CITIZENHUB_LOG_LEVEL=INFO)",
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    names = [s.name for s in SCENARIOS]
    p = argparse.ArgumentParser(description="Benchmark Citizen Hub against the FastAPI ceiling.")
    p.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    p.add_argument("--duration", type=float, default=10, help="seconds per measurement")
    p.add_argument(
        "--warmup",
        type=float,
        default=2,
        help="seconds of unmeasured load before each measurement (0: none)",
    )
    p.add_argument(
        "--connections", type=int, default=32, help="wrk connections (a scenario may set its own)"
    )
    p.add_argument("--threads", type=int, default=2, help="wrk threads (at most connections)")
    p.add_argument("--timeout", type=float, default=10, help="wrk per-request timeout, seconds")
    p.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="NAME",
        help=f"scenario(s) to run, comma-separated or repeated: {', '.join(names)}",
    )
    common_arguments(p)
    p.add_argument(
        "--strict",
        action="store_true",
        help="also exit 1 when a PostgreSQL ratio is below its target",
    )
    p.add_argument(
        "--keep-workdir",
        action="store_true",
        help="keep the temporary directory (server logs, Lua scripts, SQLite file)",
    )
    p.add_argument("--wrk", default=shutil.which("wrk") or "/usr/bin/wrk")
    args = p.parse_args(argv)
    wanted = [n.strip() for item in args.only for n in item.split(",") if n.strip()]
    unknown = sorted(set(wanted) - set(names))
    if unknown:
        p.error(f"unknown scenario(s) {', '.join(unknown)}; known: {', '.join(names)}")
    args.scenarios = [s for s in SCENARIOS if not wanted or s.name in wanted]
    for item in args.server_env:
        if "=" not in item:
            p.error(f"--server-env wants KEY=VALUE, got {item!r}")
    if not Path(args.wrk).exists():
        p.error(f"wrk not found at {args.wrk}")
    if args.duration < 1:
        p.error("--duration must be at least 1 second")
    return args


def _terminate(signum: int, _frame: Any) -> None:
    raise SystemExit(128 + signum)  # unwinds through every finally/ExitStack below


RESIDENT_MB: dict[str, float] = {}


def resident_mb(server: Server) -> float:
    """VmRSS of the server process (uvicorn with one worker serves in its own process)."""
    if server.proc is None:
        return 0.0
    try:
        status = Path(f"/proc/{server.proc.pid}/status").read_text()
    except OSError:
        return 0.0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def run_database(
    database: str, args: argparse.Namespace, workdir: Path, ceiling_rps: float
) -> list[Result]:
    env = base_env()
    env.update(SERVER_ENV)
    env["CITIZENHUB_SECRET_KEY"] = secrets.token_urlsafe(48)
    env["CITIZENHUB_UPLOAD_DIR"] = str(workdir / f"uploads-{database}")
    env.update(item.split("=", 1) for item in args.server_env)
    with contextlib.ExitStack() as stack:
        if database == "sqlite":
            db_file = workdir / "citizenhub-bench.sqlite3"
            env["CITIZENHUB_DATABASE_URL"] = f"sqlite+aiosqlite:///{db_file}"
        else:
            name = f"citizenhub_bench_{os.getpid()}_{secrets.token_hex(4)}"
            pg_create(args.pg_admin_url, name)
            stack.callback(pg_drop, args.pg_admin_url, name)
            env["CITIZENHUB_DATABASE_URL"] = pg_app_url(args.pg_admin_url, name)
        run_cli(env, workdir, "migrate")
        run_cli(env, workdir, "seed-demo")
        port = free_port()
        server = Server(
            f"citizen-hub serve ({database})",
            cli_argv("serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"),
            env,
            workdir,
            workdir / f"server-{database}.log",
            port,
            "/healthz",
        )
        stack.callback(server.stop)  # runs before the database is dropped
        server.start()
        results = []
        for scenario in args.scenarios:
            result = measure(scenario, database, port, args, workdir)
            result.ratio = result.rps / ceiling_rps if ceiling_rps and result.requests else None
            if result.problems and not server.alive():
                result.problems.append(f"the server died:\n{server.log_tail()}")
            results.append(result)
            if not server.alive():
                break
        RESIDENT_MB[database] = resident_mb(server)
        log(
            f"[{database}] one worker, demo loaded, after the run: {RESIDENT_MB[database]:.0f} MB resident"
        )
        if any(r.problems for r in results):
            tail = textwrap.indent(server.log_tail(), "    ")
            for r in results:
                if r.problems:
                    r.problems.append(f"server log (summarised):\n{tail}")
        return results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)
    databases = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    report: dict[str, Any] = {
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {
            "cpus": os.cpu_count(),
            "loadavg_at_start": os.getloadavg(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "settings": {
            k: getattr(args, k) for k in ("duration", "warmup", "connections", "threads", "timeout")
        },
        "ceiling": None,
        "databases": {},
    }
    failures: list[Result] = []
    errors: list[str] = []
    tables: list[str] = []
    workdir = Path(tempfile.mkdtemp(prefix="citizenhub-bench-"))
    try:
        with contextlib.ExitStack() as stack:
            if args.keep_workdir:
                stack.callback(log, f"kept {workdir}")
            else:
                stack.callback(shutil.rmtree, workdir, ignore_errors=True)
            # 1. The ceiling.
            port = free_port()
            ceiling_server = Server(
                "ceiling app",
                [
                    sys.executable,
                    str(ROOT / "bench" / "ceiling_app.py"),
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                ],
                base_env(),
                workdir,
                workdir / "server-ceiling.log",
                port,
                "/ping",
            )
            try:
                ceiling_server.start()
                ceiling = measure(CEILING, "ceiling", port, args, workdir)
            finally:
                ceiling_server.stop()
            if ceiling.problems:
                raise BenchError(
                    "the ceiling could not be measured:\n" + "\n".join(ceiling.problems)
                )
            ceiling.ratio = 1.0
            report["ceiling"] = asdict(ceiling)
            log(f"ceiling: {ceiling.rps:,.0f} req/s, p50 {ceiling.p50_ms:.2f} ms")
            # 2. The application, on each database.
            for database in databases:
                try:
                    results = run_database(database, args, workdir, ceiling.rps)
                except Exception as exc:  # report it, go on with the next database
                    errors.append(f"[{database}] {type(exc).__name__}: {exc}")
                    log(f"[{database}] FAILED: {exc}")
                    continue
                report["databases"][database] = [asdict(r) for r in results]
                report.setdefault("resident_mb", {})[database] = RESIDENT_MB.get(database)
                failures += [r for r in results if r.problems]
                tables.append(
                    table(
                        f"\n{database}: {args.duration:g} s per scenario, wrk {args.threads} threads; "
                        f"ceiling {ceiling.rps:,.0f} req/s at {ceiling.connections} connections "
                        f"(p50 {ceiling.p50_ms:.2f} ms, p99 {ceiling.p99_ms:.2f} ms)",
                        [ceiling, *results],
                        database,
                    )
                )
    except BenchError as exc:
        errors.append(str(exc))
    except KeyboardInterrupt:
        log("interrupted; servers stopped, databases dropped, temporary files removed")
        return 130

    for text in tables:
        print(text)
    for database, mb in RESIDENT_MB.items():
        print(
            f"{database}: one worker with the demo loaded, after the run: {mb:.0f} MB resident (budget 250 MB)"
        )
    below = [
        r
        for r in report["databases"].get("postgres", [])
        if r["target"] is not None and r["ratio"] is not None and r["ratio"] < r["target"]
    ]
    if below:
        print(
            "\nBelow target on PostgreSQL: "
            + ", ".join(f"{r['scenario']} {r['ratio']:.3f} < {r['target']:.2f}" for r in below)
        )
    for r in failures:
        print(f"\nFAILED {r.database}/{r.scenario} ({r.method} {r.path}):", file=sys.stderr)
        for problem in r.problems:
            print(f"  {problem}", file=sys.stderr)
    for error in errors:
        print(f"\nFAILED {error}", file=sys.stderr)
    report["failures"] = [f"{r.database}/{r.scenario}: {r.problems[0]}" for r in failures]
    report["failures"] += errors
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
        log(f"results written to {args.json}")
    if failures or errors:
        return 1
    return 1 if args.strict and below else 0


if __name__ == "__main__":
    sys.exit(main())
