"""Push benchmark: one notification fanned out to 100,000 devices through the real firebase-admin
SDK to the fake FCM over loopback, beside the fake's own ceiling; and an alert's latency.

    .venv/bin/python bench/push.py [--db sqlite|postgres|both] [--devices 100000]
                                   [--loops 1,2] [--alerts 10] [--json FILE] [--strict]

One run:

  fake FCM   `notifications.fake_fcm.FakeFcm(record=False)` served by uvicorn (1 process, the
             app's settings) on a free port, with its OAuth token endpoint; it stays up for the
             whole run. A thin wrapper adds `GET /_bench/stats` (accepted count, time of the last
             acceptance, CPU seconds) and nothing else.
  ceiling    wrk POSTs the exact FCM v1 request the SDK sends for the fan-out's message
             (`Authorization: Bearer x`) for --duration s: the fake's requests/s.
  per database
    prepare  a fresh database (`citizen-hub migrate`, `citizen-hub seed-demo`), then --devices
             citizens with one device each by bulk Core insert (not through the API);
    outbox   one event for all of them, written like `preferences.service.notify_area_subscribers`
             writes a new report's notifications: `app.push.outbox.notify` in one transaction
             (timed: the rows and their commit);
    fan-out  a dispatcher process (this file, `_dispatch` mode: the settings and
             `build_dispatcher` exactly as `citizen-hub worker` uses them, 1 or more loops) is started
             and idle; the timer starts when it is told to go and stops when its loops find
             nothing left. Then: every delivery `sent`, the fake accepted exactly --devices more;
             messages/s and the ratio to the ceiling. Where the time went (claim, SDK message
             building, HTTP, recording) and the dispatcher's resident memory are printed;
    alerts   `citizen-hub serve` with its in-process dispatcher and the Firebase backend pointed
             at the fake; the demo manager creates an emergency alert (POST /api/v1/alerts) and
             sends it (POST /api/v1/alerts/{id}/send), --alerts times, at random moments; the
             latency is from the send request leaving to the fake accepting the last of its topic
             messages (one per language).

Exits 1 when something fails (a delivery not sent, a count that does not match, a server that
dies); `--strict` also when the PostgreSQL fan-out is below 0.5x the ceiling. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import json
import os
import platform
import random
import resource
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.run import (  # noqa: E402 - after the path is set
    JSON_MARK,
    LUA_TEMPLATE,
    SERVER_ENV,
    BenchError,
    Scenario,
    Server,
    base_env,
    cli_argv,
    common_arguments,
    free_port,
    log,
    lua_string,
    pg_app_url,
    pg_create,
    pg_drop,
    request,
    run_cli,
    run_wrk,
    sign_in,
)

TARGET_RATIO = 0.5
PROJECT = "citizen-hub-bench"
MANAGER = "manager@demo.citizenhub.vn"
PUBLIC_BASE_URL = "https://hub.example.vn"
STATS_PATH = "/_bench/stats"
READY_MARK = "@@READY@@"
RESULT_MARK = "@@RESULT@@ "
#: The dispatcher's idle sleep (`Dispatcher.run_forever(idle_seconds=...)`, as the app runs it).
IDLE_SECONDS = 1.0


# --------------------------------------------------------------------------------------------
# The fake FCM, served (child process: `bench/push.py _fake --port P`)


def process_cpu_s(pid: int | None = None) -> float:
    """User + system CPU seconds of a process (this one when pid is None)."""
    if pid is None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def resident_mb(pid: int | str = "self", key: str = "VmRSS") -> float:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    for line in status.splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1]) / 1024
    return 0.0


class CountingFake:
    """FakeFcm(record=False) plus GET /_bench/stats; every other request goes to the fake."""

    def __init__(self) -> None:
        from notifications.fake_fcm import FakeFcm

        self.fake = FakeFcm(record=False)
        self.last_accepted = 0.0  # time.monotonic(): CLOCK_MONOTONIC, the same in every process

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == STATS_PATH:
            body = json.dumps(
                {
                    "accepted": self.fake.accepted_count,
                    "last_accepted": self.last_accepted,
                    "cpu_s": process_cpu_s(),
                }
            ).encode()
            headers = [(b"content-type", b"application/json")]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        before = self.fake.accepted_count
        await self.fake(scope, receive, send)
        if self.fake.accepted_count != before:
            self.last_accepted = time.monotonic()


def serve_fake(port: int) -> None:
    import uvicorn

    # As app.cli serves the app and `citizen-hub push fake-fcm` serves the fake: 1 process,
    # uvicorn's default loop and HTTP implementation; access log off.
    uvicorn.run(
        CountingFake(),
        host="127.0.0.1",
        port=port,
        workers=1,
        proxy_headers=False,
        server_header=False,
        log_config=None,
        access_log=False,
    )


def fake_stats(port: int) -> dict[str, float]:
    status, body = request(port, "GET", STATS_PATH, timeout=10)
    if status != 200:
        raise BenchError(f"fake FCM stats answered {status}")
    return dict(json.loads(body))


# --------------------------------------------------------------------------------------------
# The dispatcher process (child: `bench/push.py _dispatch --loops N`, settings from the env)


@dataclass
class Phases:
    """Seconds spent in each part of `Dispatcher.run_once`, summed over all rounds and loops
    (loops overlap, so with several loops the sum can exceed the wall time)."""

    rounds: int = 0
    claim_s: float = 0.0  # claim UPDATE ... RETURNING, the join, notifications, quiet hours
    build_s: float = 0.0  # FirebaseSender.build: PushMessage -> messaging.Message
    send_s: float = 0.0  # Dispatcher._send minus build: SDK encode + httpx + the fake
    record_s: float = 0.0  # the executemany UPDATE of the outcomes
    round_s: float = 0.0  # run_once as a whole (the rest is BEGIN/COMMIT and session set-up)
    topics_s: float = 0.0  # topics_once (nothing to do here, but it runs every round)


def instrument(dispatcher: Any, sender: Any, phases: Phases) -> None:
    """Time the dispatcher's phases by wrapping its bound methods on this instance (the code
    under test is not changed)."""

    def timed(obj: Any, name: str, attr: str) -> None:
        inner = getattr(obj, name)

        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return await inner(*args, **kwargs)
            finally:
                setattr(phases, attr, getattr(phases, attr) + time.perf_counter() - started)

        setattr(obj, name, wrapper)

    build = sender.build

    def timed_build(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return build(*args, **kwargs)
        finally:
            phases.build_s += time.perf_counter() - started

    sender.build = timed_build
    timed(dispatcher, "_claim", "claim_s")
    timed(dispatcher, "_send", "send_s")
    timed(dispatcher, "_record", "record_s")
    timed(dispatcher, "run_once", "round_s")
    timed(dispatcher, "topics_once", "topics_s")


async def dispatch_child(loops: int, profile: Path | None) -> dict[str, Any]:
    from app.config import Settings
    from app.db import create_engine, create_sessionmaker
    from app.push.dispatcher import RoundStats
    from app.push.jobs import build_dispatcher

    settings = Settings()
    engine = create_engine(settings.database_url)
    sessionmaker = create_sessionmaker(engine)
    phases = Phases()
    # As app.push.jobs.run_push_worker builds them (`citizen-hub worker --dispatchers N`):
    # one sender and one dispatcher per loop.
    pairs = []
    for _ in range(loops):
        dispatcher = build_dispatcher(sessionmaker, settings)
        instrument(dispatcher, dispatcher.sender, phases)
        pairs.append((dispatcher, dispatcher.sender))
    await pairs[0][0].sweep()  # connects the pool; nothing to sweep
    print(READY_MARK, flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)

    async def loop(dispatcher: Any) -> RoundStats:
        # What run_forever does while busy (topics, then deliveries, back to back), stopping at
        # the first round with nothing to claim instead of sleeping.
        total = RoundStats()
        while True:
            topic_stats = await dispatcher.topics_once()
            stats = await dispatcher.run_once()
            phases.rounds += 1
            total.add(stats)
            if stats.claimed == 0 and topic_stats.claimed == 0:
                return total

    profiler = None
    if profile is not None:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    cpu0 = process_cpu_s()
    started = time.monotonic()
    results = await asyncio.gather(*(loop(d) for d, _s in pairs))
    elapsed = time.monotonic() - started
    cpu = process_cpu_s() - cpu0
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(str(profile))
    total = RoundStats()
    for stats in results:
        total.add(stats)
    rss, peak = resident_mb(), resident_mb(key="VmHWM")
    for _d, sender in pairs:
        await sender.aclose()
    await engine.dispose()
    return {
        "started": started,
        "elapsed_s": elapsed,
        "cpu_s": cpu,
        "stats": asdict(total),
        "phases": asdict(phases),
        "rss_mb": rss,
        "peak_rss_mb": peak,
    }


# --------------------------------------------------------------------------------------------
# Data


def fcm_token(n: int) -> str:
    """Something shaped like an FCM registration token (about 160 characters)."""
    head = f"b{n:07d}:APA91b"
    return head + secrets.token_urlsafe(120)[: 160 - len(head)]


async def add_recipients(url: str, devices: int) -> float:
    """`devices` citizens with one device each, by Core executemany (as tests/push/conftest.py
    `recipients` does). Returns seconds."""
    from sqlalchemy import insert

    from app.auth.models import User
    from app.db import create_engine
    from app.devices.models import Device

    engine = create_engine(url)
    started = time.perf_counter()
    now = datetime.now(UTC)
    rng = random.Random(7)
    platforms = ["android"] * 14 + ["ios"] * 5 + ["web"]
    digest = "$argon2id$v=19$m=65536,t=3,p=4$bm90IHVzZWQ$bm90IHVzZWQgYnkgdGhlIGJlbmNo"
    chunk = 10_000
    try:
        for start in range(0, devices, chunk):
            numbers = range(start, min(devices, start + chunk))
            locales = ["en" if rng.random() < 0.1 else "vi" for _ in numbers]
            async with engine.begin() as conn:
                ids = (
                    await conn.execute(
                        insert(User).returning(User.id, sort_by_parameter_order=True),
                        [
                            {
                                "email": f"bench-{n}@example.vn",
                                "role": "citizen",
                                "password_hash": digest,
                                "locale": locale,
                                "created_at": now,
                                "updated_at": now,
                            }
                            for n, locale in zip(numbers, locales, strict=True)
                        ],
                    )
                ).scalars()
                await conn.execute(
                    insert(Device),
                    [
                        {
                            "token": fcm_token(n),
                            "platform": rng.choice(platforms),
                            "locale": locale,
                            "user_id": user_id,
                            "created_at": now,
                            "last_seen_at": now,
                        }
                        for n, locale, user_id in zip(numbers, locales, list(ids), strict=True)
                    ],
                )
    finally:
        await engine.dispose()
    return time.perf_counter() - started


def event_notifications(user_ids: list[int], report_id: int, now: datetime) -> list[Any]:
    """The notifications `notify_area_subscribers` writes for a new public report."""
    from app.inbox.models import Notification

    data = {
        "code": f"PA-B{report_id:05d}",
        "service_vi": "Đèn đường",
        "service_en": "Street lights",
        "ward": "Phường Hồng Hà",
    }
    return [
        Notification(
            user_id=uid,
            event="report.area_new",
            subject_type="report",
            subject_id=report_id,
            data=data,
            created_at=now,
        )
        for uid in user_ids
    ]


async def write_event(url: str, report_id: int, chunk: int) -> dict[str, Any]:
    """One event for every bench citizen through `app.push.outbox.notify`, in one transaction
    (`chunk` recipients per call; 0 = all in one call). Returns timings and what was written."""
    from sqlalchemy import func, select

    from app.auth.models import User
    from app.db import create_engine, create_sessionmaker
    from app.push import outbox
    from app.push.models import Delivery

    engine = create_engine(url)
    sessionmaker = create_sessionmaker(engine)
    try:
        async with sessionmaker() as session:
            user_ids = list(
                (
                    await session.execute(
                        select(User.id).where(User.email.like("bench-%")).order_by(User.id)
                    )
                ).scalars()
            )
        started = time.perf_counter()
        now = datetime.now(UTC)
        async with sessionmaker() as session:
            if session.bind is not None and session.bind.dialect.name == "sqlite":
                await session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
            step = chunk or len(user_ids)
            for start in range(0, len(user_ids), step):
                part = user_ids[start : start + step]
                await outbox.notify(session, event_notifications(part, report_id, now), now=now)
            flushed = time.perf_counter() - started
            await session.commit()
        elapsed = time.perf_counter() - started
        async with sessionmaker() as session:
            queued = await session.scalar(
                select(func.count()).select_from(Delivery).where(Delivery.status == "queued")
            )
        return {
            "recipients": len(user_ids),
            "queued": int(queued or 0),
            "seconds": elapsed,
            "commit_s": elapsed - flushed,
            "chunk": chunk,
        }
    finally:
        await engine.dispose()


async def delivery_counts(url: str) -> dict[str, int]:
    from sqlalchemy import func, select

    from app.db import create_engine
    from app.push.models import Delivery

    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                select(Delivery.status, func.count())
                .where(Delivery.alert_id.is_(None))
                .group_by(Delivery.status)
            )
            return {status: int(n) for status, n in rows}
    finally:
        await engine.dispose()


# --------------------------------------------------------------------------------------------
# Measuring


@dataclass
class FanOut:
    database: str
    loops: int
    devices: int
    outbox_s: float = 0.0
    outbox_note: str = ""
    elapsed_s: float = 0.0
    messages_per_s: float = 0.0
    ratio: float | None = None
    accepted: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    dispatcher_cpu_s: float = 0.0
    fake_cpu_s: float = 0.0
    rss_mb: float = 0.0
    peak_rss_mb: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


@dataclass
class Alerts:
    database: str
    runs: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    submit_ms: list[float] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def write_lua(path: Path, scenario: Scenario) -> None:
    """bench/run.py's wrk script (non-2xx counting, JSON summary) for one scenario."""
    headers = "".join(
        f"wrk.headers[{lua_string(k)}] = {lua_string(v)}\n" for k, v in scenario.headers.items()
    )
    path.write_text(
        LUA_TEMPLATE
        % {
            "name": scenario.name,
            "method": lua_string(scenario.method),
            "body": f"wrk.body = {lua_string(scenario.body or '')}\n",
            "headers": headers,
            "mark": JSON_MARK,
        }
    )


def measure_ceiling(args: argparse.Namespace, port: int, workdir: Path) -> dict[str, Any]:
    """wrk against the fake with the request the SDK sends for one fan-out message."""
    from firebase_admin import messaging

    from app.push.dispatcher import Dispatcher
    from notifications.senders import FirebaseSender, StaticTokenCredentials

    sender = FirebaseSender(PROJECT, credential=StaticTokenCredentials("x"), endpoint_url="x")
    try:
        dispatcher = Dispatcher(None, sender, public_base_url=PUBLIC_BASE_URL)  # type: ignore[arg-type]
        note = event_notifications([1], 1, datetime.now(UTC))[0]
        note.id = 1
        message = sender.build(dispatcher._notification_message(note, "vi", {}), token=fcm_token(1))
        body = json.dumps({"message": messaging._MessagingService.encode_message(message)})
    finally:
        import firebase_admin

        firebase_admin.delete_app(sender.app)
    scenario = Scenario(
        "fake-fcm",
        f"/v1/projects/{PROJECT}/messages:send",
        method="POST",
        body=body,
        headers={"Content-Type": "application/json", "Authorization": "Bearer x"},
    )
    status, answer = request(port, "POST", scenario.path, body, scenario.headers)
    if status != 200:
        raise BenchError(f"the fake refused the ceiling's request: {status} {answer[:300]!r}")
    script = workdir / "fake-fcm.lua"
    write_lua(script, scenario)
    url = f"http://127.0.0.1:{port}{scenario.path}"
    wrk_args = {
        "connections": args.connections,
        "threads": min(args.threads, args.connections),
        "timeout_s": 10.0,
    }
    if args.warmup > 0:
        run_wrk(args.wrk, url, script, seconds=args.warmup, **wrk_args)
    log(f"ceiling: wrk {args.connections} connections, {args.duration:g} s")
    data = run_wrk(args.wrk, url, script, seconds=args.duration, **wrk_args)
    errors = {k: v for k, v in data["errors"].items() if v}
    if data["non2xx"] or errors or not data["requests"]:
        raise BenchError(f"the ceiling run had problems: non-2xx {data['non2xx']}, {errors}")
    seconds = data["duration_us"] / 1e6
    return {
        "rps": data["requests"] / seconds,
        "requests": int(data["requests"]),
        "connections": args.connections,
        "p50_ms": data["latency_us"]["p50"] / 1000,
        "p99_ms": data["latency_us"]["p99"] / 1000,
        "body_bytes": len(body.encode()),
    }


def push_env(database_url: str, fake_port: int, credentials: Path) -> dict[str, str]:
    env = base_env()
    env.update(SERVER_ENV)
    env.update(
        {
            "CITIZENHUB_DATABASE_URL": database_url,
            "CITIZENHUB_PUSH_BACKEND": "firebase",
            "CITIZENHUB_FIREBASE_PROJECT_ID": PROJECT,
            "CITIZENHUB_FIREBASE_CREDENTIALS_FILE": str(credentials),
            "CITIZENHUB_FCM_ENDPOINT_URL": f"http://127.0.0.1:{fake_port}",
            "CITIZENHUB_PUBLIC_BASE_URL": PUBLIC_BASE_URL,
            "CITIZENHUB_SECRET_KEY": secrets.token_urlsafe(48),
        }
    )
    return env


def run_fanout(
    database: str,
    loops: int,
    args: argparse.Namespace,
    env: dict[str, str],
    workdir: Path,
    fake_port: int,
    fake_pid: int,
    ceiling_rps: float,
    report_id: int,
) -> FanOut:
    url = env["CITIZENHUB_DATABASE_URL"]
    result = FanOut(database, loops, args.devices)
    log(f"[{database}] outbox: one event for {args.devices:,} recipients (outbox.notify)")
    written = None
    chunk = args.notify_chunk
    try:
        written = asyncio.run(write_event(url, report_id, chunk))
    except Exception as exc:
        if chunk:
            raise
        # One call for everyone failed (e.g. more bind parameters than the driver allows):
        # report it and write the same rows in calls of 10,000 recipients, one transaction.
        reason = str(exc).splitlines()[0][:160]
        log(f"[{database}] outbox.notify with {args.devices:,} recipients in one call: {reason}")
        result.problems.append(f"outbox.notify, one call for {args.devices:,}: {reason}")
        chunk = 10_000
        written = asyncio.run(write_event(url, report_id, chunk))
    result.outbox_s = written["seconds"]
    result.outbox_note = (
        "one outbox.notify call" if not chunk else f"outbox.notify per {chunk:,} recipients"
    ) + f", one transaction (commit {written['commit_s']:.2f} s)"
    if written["queued"] != args.devices:
        raise BenchError(f"expected {args.devices} queued deliveries, found {written['queued']}")
    log(f"[{database}] outbox written in {result.outbox_s:.1f} s ({result.outbox_note})")

    argv = [sys.executable, str(Path(__file__).resolve()), "_dispatch", "--loops", str(loops)]
    profile = workdir / f"dispatch-{database}-{loops}.prof" if args.profile else None
    if profile is not None:
        argv += ["--profile", str(profile)]
    log_path = workdir / f"dispatch-{database}-{loops}.log"
    with log_path.open("wb") as err:
        proc = subprocess.Popen(
            argv,
            env=env,
            cwd=workdir,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=err,
            start_new_session=True,
        )
    try:
        assert proc.stdin is not None and proc.stdout is not None
        line = proc.stdout.readline().decode()
        if READY_MARK not in line:
            proc.wait(timeout=30)
            raise BenchError(f"dispatcher exited {proc.returncode}:\n{tail(log_path)}")
        before = fake_stats(fake_port)
        log(f"[{database}] fan-out: {loops} dispatcher loop(s), go")
        done = threading.Event()

        def progress() -> None:
            began = time.monotonic()
            while not done.wait(30):
                with contextlib.suppress(Exception):
                    sent = fake_stats(fake_port)["accepted"] - before["accepted"]
                    log(
                        f"[{database}] ... {sent:,.0f} accepted after {time.monotonic() - began:.0f} s"
                    )

        threading.Thread(target=progress, daemon=True).start()
        try:
            out, _ = proc.communicate(input=b"go\n", timeout=args.fanout_timeout)
        except subprocess.TimeoutExpired as exc:
            raise BenchError(f"fan-out not finished after {args.fanout_timeout:g} s") from exc
        finally:
            done.set()
        text = out.decode(errors="replace")
        if RESULT_MARK not in text:
            raise BenchError(f"dispatcher exited {proc.returncode}:\n{tail(log_path)}")
        data = json.loads(text.split(RESULT_MARK, 1)[1].splitlines()[0])
    finally:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    after = fake_stats(fake_port)
    result.elapsed_s = data["elapsed_s"]
    result.accepted = int(after["accepted"] - before["accepted"])
    result.messages_per_s = result.accepted / result.elapsed_s if result.elapsed_s else 0.0
    result.ratio = result.messages_per_s / ceiling_rps if ceiling_rps else None
    result.dispatcher_cpu_s = data["cpu_s"]
    result.fake_cpu_s = after["cpu_s"] - before["cpu_s"]
    result.rss_mb, result.peak_rss_mb = data["rss_mb"], data["peak_rss_mb"]
    result.phases = data["phases"]
    result.statuses = asyncio.run(delivery_counts(url))
    if result.accepted != args.devices:
        result.problems.append(f"the fake accepted {result.accepted:,}, not {args.devices:,}")
    others = {k: v for k, v in result.statuses.items() if k != "sent"}
    expected_sent = args.devices * report_id  # every earlier event was sent too
    if others or result.statuses.get("sent") != expected_sent:
        result.problems.append(
            f"deliveries by status {result.statuses} (want sent={expected_sent})"
        )
    if data["stats"]["sent"] != args.devices:
        result.problems.append(f"the dispatcher counted {data['stats']}")
    if profile is not None:
        print_profile(profile, database, loops)
    log(
        f"[{database}] fan-out: {result.accepted:,} in {result.elapsed_s:.1f} s, "
        f"{result.messages_per_s:,.0f}/s, RSS {result.rss_mb:.0f} MB"
    )
    return result


def print_profile(path: Path, database: str, loops: int) -> None:
    import io
    import pstats

    out = io.StringIO()
    stats = pstats.Stats(str(path), stream=out)
    stats.sort_stats("tottime").print_stats(25)
    print(f"\n--- profile of the dispatcher, {database}, {loops} loop(s) (tottime) ---")
    print("\n".join(out.getvalue().splitlines()[:45]))


def tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def run_alerts(
    database: str,
    args: argparse.Namespace,
    env: dict[str, str],
    workdir: Path,
    fake_port: int,
) -> Alerts:
    result = Alerts(database)
    port = free_port()
    server = Server(
        f"citizen-hub serve ({database})",
        cli_argv("serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"),
        env | {"CITIZENHUB_UPLOAD_DIR": str(workdir / f"uploads-{database}")},
        workdir,
        workdir / f"server-{database}.log",
        port,
        "/healthz",
    )
    try:
        server.start()
        headers = {
            "Authorization": f"Bearer {sign_in(port, MANAGER)}",
            "Content-Type": "application/json",
        }
        rng = random.Random(11)
        time.sleep(IDLE_SECONDS * 2)  # past the first rounds and upkeep of the new process
        for n in range(args.alerts):
            expires = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
            draft = {
                "severity": "emergency",
                "title_vi": f"Lũ quét trên suối Ngòi Thia ({n + 1})",
                "body_vi": "Người dân ven suối di chuyển lên vùng cao ngay.",
                "title_en": f"Flash flood on the Ngòi Thia stream ({n + 1})",
                "body_en": "People living by the stream: move to higher ground now.",
                "whole_province": True,
                "expires_at": expires,
            }
            status, body = request(port, "POST", "/api/v1/alerts", json.dumps(draft), headers)
            if status != 201:
                raise BenchError(f"creating an alert answered {status}: {body[:300]!r}")
            alert_id = json.loads(body)["id"]
            # A random moment relative to the dispatcher's idle poll.
            time.sleep(rng.uniform(0.0, IDLE_SECONDS))
            before = fake_stats(fake_port)["accepted"]
            started = time.monotonic()
            status, body = request(port, "POST", f"/api/v1/alerts/{alert_id}/send", "", headers)
            answered = time.monotonic()
            if status != 200:
                raise BenchError(f"sending alert {alert_id} answered {status}: {body[:300]!r}")
            deadline = started + 30
            while True:
                stats = fake_stats(fake_port)
                if stats["accepted"] - before >= 2:  # one topic message per language
                    break
                if time.monotonic() > deadline:
                    raise BenchError(f"alert {alert_id}: the fake did not get it within 30 s")
                time.sleep(0.005)
            if stats["accepted"] - before != 2:
                result.problems.append(f"alert {alert_id}: {stats['accepted'] - before} messages")
            result.latencies_ms.append((stats["last_accepted"] - started) * 1000)
            result.submit_ms.append((answered - started) * 1000)
            result.runs += 1
        if not server.alive():
            result.problems.append(f"the server died:\n{server.log_tail()}")
    except (BenchError, OSError, http.client.HTTPException) as exc:
        result.problems.append(f"{type(exc).__name__}: {exc}")
        result.problems.append(f"server log (summarised):\n{server.log_tail()}")
    finally:
        server.stop()
    if result.latencies_ms:
        log(
            f"[{database}] alerts: median {statistics.median(result.latencies_ms):.0f} ms, "
            f"max {max(result.latencies_ms):.0f} ms"
        )
    return result


def run_database(
    database: str,
    args: argparse.Namespace,
    workdir: Path,
    fake_port: int,
    fake_pid: int,
    credentials: Path,
    ceiling_rps: float,
) -> tuple[list[FanOut], Alerts | None, dict[str, float]]:
    with contextlib.ExitStack() as stack:
        if database == "sqlite":
            url = f"sqlite+aiosqlite:///{workdir / 'push-bench.sqlite3'}"
        else:
            name = f"citizenhub_pushbench_{os.getpid()}_{secrets.token_hex(4)}"
            pg_create(args.pg_admin_url, name)
            stack.callback(pg_drop, args.pg_admin_url, name)
            url = pg_app_url(args.pg_admin_url, name)
        env = push_env(url, fake_port, credentials)
        env.update(item.split("=", 1) for item in args.server_env)
        run_cli(env, workdir, "migrate")
        run_cli(env, workdir, "seed-demo")
        log(f"[{database}] {args.devices:,} citizens with one device each (bulk insert)")
        prepare_s = asyncio.run(add_recipients(url, args.devices))
        log(f"[{database}] recipients inserted in {prepare_s:.1f} s")
        fanouts = []
        loops_list = [1] if database == "sqlite" else args.loops
        for index, loops in enumerate(loops_list, start=1):
            fanouts.append(
                run_fanout(
                    database, loops, args, env, workdir, fake_port, fake_pid, ceiling_rps, index
                )
            )
        alerts = run_alerts(database, args, env, workdir, fake_port) if args.alerts else None
        return fanouts, alerts, {"recipients_s": prepare_s}


# --------------------------------------------------------------------------------------------
# Output


def fanout_table(rows: list[FanOut], ceiling: dict[str, Any]) -> str:
    header = [
        "database",
        "loops",
        "messages",
        "outbox s",
        "fan-out s",
        "msg/s",
        "ratio",
        "target",
        "disp CPU",
        "fake CPU",
        "RSS MB",
    ]
    body = []
    for r in rows:
        met = r.ratio is not None and r.ratio >= TARGET_RATIO
        target = f">={TARGET_RATIO:.2f} " + ("ok" if met else "BELOW")
        if r.database != "postgres":
            target = f">={TARGET_RATIO:.2f} (pg)" + ("" if met else " below")
        body.append(
            [
                r.database + (" FAILED" if r.problems and not r.outbox_note else ""),
                str(r.loops),
                f"{r.accepted:,}",
                f"{r.outbox_s:.1f}",
                f"{r.elapsed_s:.1f}",
                f"{r.messages_per_s:,.0f}",
                "-" if r.ratio is None else f"{r.ratio:.3f}",
                target,
                f"{r.dispatcher_cpu_s / r.elapsed_s:.0%}" if r.elapsed_s else "-",
                f"{r.fake_cpu_s / r.elapsed_s:.0%}" if r.elapsed_s else "-",
                f"{r.rss_mb:.0f}",
            ]
        )
    widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header))]

    def fmt(row: list[str]) -> str:
        return "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        )

    lines = [
        f"\nfan-out: one event to {rows[0].devices:,} devices; ceiling (fake FCM alone, wrk "
        f"{ceiling['connections']} connections): {ceiling['rps']:,.0f} req/s "
        f"(p50 {ceiling['p50_ms']:.2f} ms, p99 {ceiling['p99_ms']:.2f} ms, "
        f"{ceiling['body_bytes']} B body)",
        fmt(header),
        "  ".join("-" * w for w in widths),
        *map(fmt, body),
        "  outbox s: outbox.notify + commit of the inbox rows and deliveries; fan-out s: "
        "dispatcher go -> every delivery sent",
        "  disp CPU / fake CPU: CPU time of the dispatcher process / fake FCM process during "
        "the fan-out, as a share of one core",
    ]
    for r in rows:
        p = r.phases
        if not p.get("rounds"):
            continue
        other = p["round_s"] - p["claim_s"] - p["send_s"] - p["record_s"]
        lines.append(
            f"  {r.database}, {r.loops} loop(s): {p['rounds']} rounds; claim {p['claim_s']:.1f} s, "
            f"SDK build {p['build_s']:.1f} s, send (SDK+HTTP) {p['send_s'] - p['build_s']:.1f} s, "
            f"record {p['record_s']:.1f} s, transactions/other {other:.1f} s, "
            f"topics_once {p['topics_s']:.1f} s; {r.outbox_note}; "
            f"peak RSS {r.peak_rss_mb:.0f} MB"
        )
    return "\n".join(lines)


def alerts_table(rows: list[Alerts]) -> str:
    lines = [
        f"\nalert latency: manager's POST /api/v1/alerts/{{id}}/send -> the fake accepted both "
        f"topic messages (vi, en); dispatcher in `citizen-hub serve`, idle poll "
        f"{IDLE_SECONDS:g} s",
        "database  runs  submit p50 ms  latency p50 ms  latency max ms  latency min ms",
    ]
    for r in rows:
        if not r.latencies_ms:
            lines.append(f"{r.database:<8}  {r.runs:>4}  FAILED")
            continue
        lines.append(
            f"{r.database:<8}  {r.runs:>4}  {statistics.median(r.submit_ms):>13.1f}  "
            f"{statistics.median(r.latencies_ms):>14.0f}  {max(r.latencies_ms):>14.0f}  "
            f"{min(r.latencies_ms):>14.0f}"
        )
    lines.append(
        "  an idle dispatcher sleeps up to 1 s unless a commit wakes it (app/push/wake.py): "
        "without a wake-up an alert waits ~0-1 s (0.5 s on average) before it is claimed"
    )
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    p.add_argument("--devices", type=int, default=100_000, help="recipients, one device each")
    p.add_argument(
        "--loops",
        default="1,2",
        help="dispatcher loops in one process for each PostgreSQL fan-out (SQLite: always 1)",
    )
    p.add_argument("--alerts", type=int, default=10, help="alerts sent per database (0: none)")
    p.add_argument("--duration", type=float, default=10, help="seconds of the ceiling run")
    p.add_argument("--warmup", type=float, default=2, help="unmeasured wrk seconds first")
    p.add_argument(
        "--connections",
        type=int,
        default=100,
        help="wrk connections for the ceiling (the SDK's httpx pool opens up to 100)",
    )
    p.add_argument("--threads", type=int, default=2, help="wrk threads")
    p.add_argument(
        "--notify-chunk",
        type=int,
        default=0,
        help="recipients per outbox.notify call (0: all in one call; on failure, 10,000)",
    )
    p.add_argument("--fanout-timeout", type=float, default=600, help="give up on a fan-out after S")
    p.add_argument("--profile", action="store_true", help="cProfile the dispatcher and print it")
    common_arguments(p)
    p.add_argument(
        "--strict", action="store_true", help=f"exit 1 below {TARGET_RATIO}x on PostgreSQL"
    )
    p.add_argument("--keep-workdir", action="store_true", help="keep logs, profiles, SQLite file")
    p.add_argument("--wrk", default=shutil.which("wrk") or "/usr/bin/wrk")
    args = p.parse_args(argv)
    try:
        args.loops = [int(n) for n in args.loops.split(",") if n.strip()]
    except ValueError:
        p.error("--loops wants numbers, e.g. 1,2")
    if not args.loops or min(args.loops) < 1:
        p.error("--loops wants numbers of at least 1")
    if args.devices < 1:
        p.error("--devices must be at least 1")
    for item in args.server_env:
        if "=" not in item:
            p.error(f"--server-env wants KEY=VALUE, got {item!r}")
    if not Path(args.wrk).exists():
        p.error(f"wrk not found at {args.wrk}")
    return args


def _terminate(signum: int, _frame: Any) -> None:
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["_fake"]:
        serve_fake(int(argv[argv.index("--port") + 1]))
        return 0
    if argv[:1] == ["_dispatch"]:
        loops = int(argv[argv.index("--loops") + 1])
        profile = Path(argv[argv.index("--profile") + 1]) if "--profile" in argv else None
        data = asyncio.run(dispatch_child(loops, profile))
        print(RESULT_MARK + json.dumps(data), flush=True)
        return 0

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
            k: getattr(args, k)
            for k in ("devices", "loops", "alerts", "duration", "connections", "notify_chunk")
        },
        "ceiling": None,
        "fanout": [],
        "alerts": [],
        "prepare": {},
    }
    errors: list[str] = []
    fanouts: list[FanOut] = []
    alerts: list[Alerts] = []
    ceiling: dict[str, Any] | None = None
    workdir = Path(tempfile.mkdtemp(prefix="citizenhub-push-bench-"))
    try:
        with contextlib.ExitStack() as stack:
            if args.keep_workdir:
                stack.callback(log, f"kept {workdir}")
            else:
                stack.callback(shutil.rmtree, workdir, ignore_errors=True)
            from notifications.fake_fcm import write_service_account

            fake_port = free_port()
            credentials = write_service_account(
                workdir / "service-account.json",
                project_id=PROJECT,
                token_uri=f"http://127.0.0.1:{fake_port}/token",
            )
            fake = Server(
                "fake FCM",
                [sys.executable, str(Path(__file__).resolve()), "_fake", "--port", str(fake_port)],
                base_env(),
                workdir,
                workdir / "fake-fcm.log",
                fake_port,
                STATS_PATH,
            )
            stack.callback(fake.stop)
            fake.start()
            assert fake.proc is not None
            ceiling = measure_ceiling(args, fake_port, workdir)
            report["ceiling"] = ceiling
            log(f"ceiling: {ceiling['rps']:,.0f} req/s, p50 {ceiling['p50_ms']:.2f} ms")
            for database in databases:
                try:
                    rows, alert, prepare = run_database(
                        database,
                        args,
                        workdir,
                        fake_port,
                        fake.proc.pid,
                        credentials,
                        ceiling["rps"],
                    )
                except Exception as exc:  # report it, go on with the next database
                    errors.append(f"[{database}] {type(exc).__name__}: {exc}")
                    log(f"[{database}] FAILED: {exc}")
                    continue
                fanouts += rows
                report["prepare"][database] = prepare
                if alert is not None:
                    alerts.append(alert)
                if not fake.alive():
                    raise BenchError(f"the fake FCM died:\n{fake.log_tail()}")
    except BenchError as exc:
        errors.append(str(exc))
    except KeyboardInterrupt:
        log("interrupted; servers stopped, databases dropped, temporary files removed")
        return 130

    if fanouts and ceiling is not None:
        print(fanout_table(fanouts, ceiling))
    if alerts:
        print(alerts_table(alerts))
    report["fanout"] = [asdict(r) for r in fanouts]
    report["alerts"] = [asdict(r) for r in alerts]
    # A failed single notify call that was redone in chunks is a finding, not a failure.
    failures = [
        f"{r.database} fan-out ({r.loops} loops): {p}"
        for r in fanouts
        for p in r.problems
        if not p.startswith("outbox.notify, one call")
    ]
    failures += [f"{r.database} alerts: {p}" for r in alerts for p in r.problems]
    notes = [p for r in fanouts for p in r.problems if p.startswith("outbox.notify, one call")]
    for note in dict.fromkeys(notes):
        print(f"\nNOTE {note}")
    for failure in failures + errors:
        print(f"\nFAILED {failure}", file=sys.stderr)
    below = [
        r
        for r in fanouts
        if r.database == "postgres" and (r.ratio is None or r.ratio < TARGET_RATIO)
    ]
    if below:
        print(
            "\nBelow target on PostgreSQL: "
            + ", ".join(f"{r.loops} loop(s) {r.ratio or 0:.3f} < {TARGET_RATIO}" for r in below)
        )
    report["failures"] = failures + errors
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
        log(f"results written to {args.json}")
    if failures or errors:
        return 1
    return (
        1
        if args.strict
        and below
        and len(below) == len([r for r in fanouts if r.database == "postgres"])
        else 0
    )


if __name__ == "__main__":
    sys.exit(main())
