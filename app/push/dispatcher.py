"""The dispatcher: sends what the outbox holds, after the commit that wrote it.

Each round claims a batch of queued deliveries (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so
several dispatchers share the work without sending a record twice; on SQLite the single writer
and the lease do the same), commits the claim, sends, and records each outcome:

    queued -> sending -> sent | failed | dead (token removed) | queued again (retry, later)

A dispatcher that dies between sending and recording leaves rows in ``sending``; the sweeper puts
them back in the queue when their lease runs out, so delivery is at least once. Every push
carries its record id (``nid`` for a notification, ``alert_id`` for an alert) so clients drop
duplicates; the inbox row is never written twice because it is not written here at all.

Quiet hours apply here, when a push would go out: a normal-priority notification due inside its
recipient's quiet hours waits for their end. Alerts go to topics and never wait for quiet hours.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.alerts.models import Alert
from app.alerts.service import state as alert_state
from app.alerts.texts import push_message
from app.db import begin_write, utcnow
from app.devices.models import Device
from app.inbox.models import Notification
from app.inbox.texts import link_of
from app.inbox.texts import render as render_text
from app.preferences.models import NotificationPreference
from app.push.models import ChannelHalt, Delivery, DeliveryStatus, TopicChange
from app.push.outbox import quiet_until
from notifications.message import PushMessage
from notifications.policy import RetryPolicy
from notifications.senders import Sender, TokenResult, TopicResult

logger = logging.getLogger("citizenhub.push")

SENDING = DeliveryStatus.sending.value
QUEUED = DeliveryStatus.queued.value
#: What an outcome may set on each kind of outbox row.
DELIVERY_COLUMNS = frozenset({"status", "sent_at", "message_id", "error_code", "next_attempt_at"})
TOPIC_COLUMNS = frozenset({"status", "error_code", "next_attempt_at"})


@dataclass
class RoundStats:
    """What one round did."""

    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    dead: int = 0
    held: int = 0

    def count(self, status: str) -> None:
        if status == "sent":
            self.sent += 1
        elif status == "dead":
            self.dead += 1
        elif status == QUEUED:
            self.retried += 1
        else:
            self.failed += 1

    def add(self, other: RoundStats) -> None:
        for name in ("claimed", "sent", "retried", "failed", "dead", "held"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class _Item:
    """One claimed delivery and what to send it."""

    id: int
    attempts: int
    platform: str | None
    token: str | None = None
    topic: str | None = None
    message: PushMessage | None = None
    outcome: dict[str, Any] = field(default_factory=dict)


class Dispatcher:
    """Sends queued deliveries and topic changes through a :class:`~notifications.senders.Sender`.

    ``clock`` and ``rng`` make time and jitter injectable; ``write_lock`` is the web process's
    SQLite writer lock when the dispatcher runs inside it.
    """

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        sender: Sender,
        *,
        time_zone: str = "Asia/Ho_Chi_Minh",
        public_base_url: str | None = None,
        policy: RetryPolicy | None = None,
        batch_size: int = 500,
        lease: timedelta = timedelta(minutes=2),
        halt: timedelta = timedelta(minutes=15),
        clock: Callable[[], datetime] = utcnow,
        rng: random.Random | None = None,
        worker_id: str | None = None,
        write_lock: asyncio.Lock | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.sender = sender
        self.tz = ZoneInfo(time_zone)
        self.base_url = (public_base_url or "").rstrip("/")
        self.policy = policy or RetryPolicy()
        self.batch_size = batch_size
        self.lease = lease
        self.halt = halt
        self.clock = clock
        self.rng = rng or random.Random()
        self.worker_id = worker_id or f"dispatcher-{uuid.uuid4().hex[:12]}"
        self.write_lock = write_lock

    # Transactions ----------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncSession]:
        async with contextlib.AsyncExitStack() as stack:
            session = await stack.enter_async_context(self.sessionmaker())
            await begin_write(session, stack, self.write_lock)
            try:
                yield session
            except BaseException:
                await session.rollback()
                raise
            await session.commit()

    # Deliveries ------------------------------------------------------------------------------

    async def run_once(self) -> RoundStats:
        """Claim one batch, send it, record the outcomes."""
        stats = RoundStats()
        async with self._write() as session:
            items = await self._claim(session, stats)
        if not items:
            return stats
        await self._send(items)
        async with self._write() as session:
            await self._record(session, items, stats)
        return stats

    async def _claim(self, session: AsyncSession, stats: RoundStats) -> list[_Item]:
        now = self.clock()
        halted = select(ChannelHalt.platform).where(ChannelHalt.halted_until > now)
        # One locking SELECT reads everything the batch needs (see _claim_rows).
        candidates = (
            select(
                Delivery.id,
                Delivery.attempts,
                Delivery.notification_id,
                Delivery.alert_id,
                Delivery.topic,
                Delivery.locale,
                Delivery.priority,
                Device.token,
                Device.platform,
            )
            .outerjoin(Device, Device.id == Delivery.device_id)
            .where(
                Delivery.status == QUEUED,
                Delivery.next_attempt_at <= now,
                or_(Delivery.platform.is_(None), Delivery.platform.not_in(halted)),
            )
            .order_by(Delivery.priority, Delivery.next_attempt_at)
            .limit(self.batch_size)
            .with_for_update(skip_locked=True, of=Delivery)
        )
        rows = await self._claim_rows(session, Delivery, candidates, now)
        stats.claimed = len(rows)
        if not rows:
            return []
        notes = await self._notifications(session, {r.notification_id for r in rows})
        alerts = await self._alerts(session, {r.alert_id for r in rows})
        quiet = await self._quiet_hours(session, {n.user_id for n in notes.values()})
        items: list[_Item] = []
        held: dict[datetime, list[int]] = {}
        texts: dict[tuple[str, str, str], Any] = {}  # one render per distinct text in a batch
        for row in rows:
            item = _Item(row.id, row.attempts + 1, row.platform, token=row.token, topic=row.topic)
            if row.notification_id is not None:
                note = notes[row.notification_id]
                window = quiet.get(note.user_id)
                if row.token is None:
                    item.outcome = _failed("DEVICE_GONE")
                elif (
                    window
                    and row.priority != "high"
                    and (until := quiet_until(now, window[0], window[1], self.tz))
                ):
                    held.setdefault(until, []).append(row.id)
                    continue
                else:
                    item.message = self._notification_message(note, row.locale, texts)
            else:
                alert = alerts.get(row.alert_id)
                state = alert_state(alert, now) if alert is not None else "cancelled"
                if state == "active":
                    item.message = self._alert_message(alert, row.locale)
                else:
                    item.outcome = _failed("EXPIRED" if state == "expired" else "CANCELLED")
            items.append(item)
        for until, held_ids in held.items():
            # Not an attempt: the recipient asked for quiet.
            await session.execute(
                update(Delivery)
                .where(Delivery.id.in_(held_ids))
                .values(
                    status=QUEUED,
                    next_attempt_at=until,
                    attempts=Delivery.attempts - 1,
                    claimed_by=None,
                    lease_until=None,
                )
                .execution_options(synchronize_session=False)
            )
            stats.held += len(held_ids)
        return items

    async def _claim_rows(
        self,
        session: AsyncSession,
        model: type[Delivery] | type[TopicChange],
        query: Any,
        now: datetime,
    ) -> Sequence[Any]:
        """Run the locking SELECT `query` (its rows carry `id`, and `attempts` as read before
        this claim) and mark those rows as this dispatcher's until the lease runs out. An
        UPDATE ... WHERE id IN (subquery) instead would be planned by PostgreSQL as a hash join
        over the whole table: a scan per claim, O(n^2) over a large fan-out."""
        rows = (await session.execute(query)).all()
        if rows:
            await session.execute(
                update(model)
                .where(model.id.in_([r.id for r in rows]))
                .values(
                    status=SENDING,
                    claimed_by=self.worker_id,
                    lease_until=now + self.lease,
                    attempts=model.attempts + 1,
                    updated_at=now,
                )
                .execution_options(synchronize_session=False)
            )
        return rows

    async def _notifications(self, session: AsyncSession, ids: set[int | None]) -> dict[int, Any]:
        """Plain rows (id, user_id, event, subject, data): no ORM objects on the hot path."""
        wanted = [i for i in ids if i is not None]
        if not wanted:
            return {}
        rows = await session.execute(
            select(
                Notification.id,
                Notification.user_id,
                Notification.event,
                Notification.subject_type,
                Notification.subject_id,
                Notification.data,
            ).where(Notification.id.in_(wanted))
        )
        return {n.id: n for n in rows}

    async def _alerts(self, session: AsyncSession, ids: set[int | None]) -> dict[int, Any]:
        wanted = [i for i in ids if i is not None]
        if not wanted:
            return {}
        rows = await session.execute(select(Alert).where(Alert.id.in_(wanted)))
        return {a.id: a for a in rows.scalars()}

    async def _quiet_hours(self, session: AsyncSession, user_ids: set[int]) -> dict[int, Any]:
        if not user_ids:
            return {}
        rows = await session.execute(
            select(
                NotificationPreference.user_id,
                NotificationPreference.quiet_start,
                NotificationPreference.quiet_end,
            ).where(
                NotificationPreference.user_id.in_(user_ids),
                NotificationPreference.quiet_start.is_not(None),
            )
        )
        return {user_id: (start, end) for user_id, start, end in rows}

    def _link(self, path: str) -> str:
        return f"{self.base_url}{path}" if self.base_url else path

    def _notification_message(
        self, note: Any, locale: str, texts: dict[tuple[str, str, str], Any]
    ) -> PushMessage:
        key = (note.event, locale, json.dumps(note.data, sort_keys=True, default=str))
        text = texts.get(key)
        if text is None:
            text = texts[key] = render_text(note.event, locale, note.data)
        data = {
            "kind": "notification",
            "nid": str(note.id),
            "event": note.event,
            "subject_type": note.subject_type,
            "subject_id": str(note.subject_id),
        }
        if note.subject_type == "report" and note.data.get("code"):
            data["code"] = str(note.data["code"])
        path = link_of(note.subject_type, note.data) or "/account/inbox"
        return PushMessage(
            title=text.title,
            body=text.body,
            data=data,
            link=self._link(path),
            collapse_key=f"{note.subject_type}-{note.subject_id}",
        )

    def _alert_message(self, alert: Any, locale: str) -> PushMessage:
        return push_message(alert, locale, base_url=self.base_url)

    async def _send(self, items: list[_Item]) -> None:
        to_tokens = [i for i in items if i.message is not None and i.token is not None]
        to_topics = [i for i in items if i.message is not None and i.topic is not None]
        jobs: list[Any] = []
        if to_tokens:
            jobs.append(self._send_tokens(to_tokens))
        jobs.extend(self._send_topic(item) for item in to_topics)
        await asyncio.gather(*jobs)

    async def _send_tokens(self, items: list[_Item]) -> None:
        pairs = [(i.token or "", i.message) for i in items if i.message is not None]
        try:
            results: Sequence[TokenResult | TopicResult] = await self.sender.send_many(pairs)
        except Exception as exc:  # the whole call failed (network, auth flow): try again later
            logger.warning("push batch failed: %r", exc)
            for item in items:
                item.outcome = self._after("retry", "UNAVAILABLE", None, item)
            return
        for item, result in zip(items, results, strict=True):
            item.outcome = self._after(
                result.outcome, result.error_code, result.retry_after, item, result.message_id
            )

    async def _send_topic(self, item: _Item) -> None:
        assert item.message is not None and item.topic is not None
        try:
            result = await self.sender.send_topic(item.topic, item.message)
        except Exception as exc:
            logger.warning("push to topic %s failed: %r", item.topic, exc)
            item.outcome = self._after("retry", "UNAVAILABLE", None, item)
            return
        item.outcome = self._after(
            result.outcome, result.error_code, result.retry_after, item, result.message_id
        )

    def _after(
        self,
        outcome: str,
        code: str | None,
        retry_after: float | None,
        item: _Item,
        message_id: str | None = None,
    ) -> dict[str, Any]:
        now = self.clock()
        if outcome == "sent":
            return {"status": "sent", "sent_at": now, "message_id": message_id, "error_code": None}
        if outcome == "dead":
            return {"status": "dead", "error_code": code}
        if outcome == "invalid":
            return _failed(code)
        if outcome == "misconfigured" and item.platform is not None:
            return {"status": QUEUED, "error_code": code, "halt": item.platform}
        delay = self.policy.next_delay(item.attempts, retry_after, self.rng)
        if delay is None:
            return _failed(code)
        return {
            "status": QUEUED,
            "error_code": code,
            "next_attempt_at": now + timedelta(seconds=delay),
        }

    async def _record(self, session: AsyncSession, items: list[_Item], stats: RoundStats) -> None:
        now = self.clock()
        halts = {i.outcome["halt"]: i.outcome["error_code"] for i in items if "halt" in i.outcome}
        for platform, code in halts.items():
            await self._halt(session, platform, code, now)
        await self._write_outcomes(session, Delivery, items, stats, DELIVERY_COLUMNS)

    async def _write_outcomes(
        self,
        session: AsyncSession,
        model: type[Delivery] | type[TopicChange],
        items: list[_Item],
        stats: RoundStats,
        columns: frozenset[str],
    ) -> None:
        """Each claimed row's outcome, one executemany per shape of values; dead tokens go."""
        now = self.clock()
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for item in items:
            values = {k: v for k, v in item.outcome.items() if k in columns}
            if "halt" in item.outcome:
                values["next_attempt_at"] = now + self.halt
                # FCM refused our credentials, not this message: not the message's attempt.
                values["attempts"] = item.attempts - 1
            values.update(id=item.id, claimed_by=None, lease_until=None, updated_at=now)
            groups.setdefault(tuple(sorted(values)), []).append(values)
            stats.count(values["status"])
        for rows in groups.values():
            # Only rows this dispatcher still holds: a lease that ran out belongs to the sweeper.
            await session.execute(
                update(model)
                .where(model.claimed_by == self.worker_id, model.status == SENDING)
                .execution_options(synchronize_session=None),
                rows,
            )
        dead = sorted({i.token for i in items if i.outcome.get("status") == "dead" and i.token})
        if dead:
            await self._forget_dead(session, dead)

    async def _halt(self, session: AsyncSession, platform: str, code: str, now: datetime) -> None:
        logger.critical(
            "push channel %s halted: FCM answered %s; check the %s credentials in the Firebase "
            "console. Sending resumes by itself in %s or with `citizen-hub push resume %s`.",
            platform,
            code,
            {"ios": "APNs", "web": "web push"}.get(platform, platform),
            self.halt,
            platform,
        )
        values = {
            "platform": platform,
            "error_code": code,
            "halted_at": now,
            "halted_until": now + self.halt,
        }
        dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        stmt = insert(ChannelHalt).values(**values)
        stmt = stmt.on_conflict_do_update(
            index_elements=[ChannelHalt.platform],
            set_={k: stmt.excluded[k] for k in ("error_code", "halted_at", "halted_until")},
        )
        await session.execute(stmt)

    async def _forget_dead(self, session: AsyncSession, tokens: list[str]) -> None:
        from app.devices.service import forget_dead

        removed = await forget_dead(session, tokens)
        logger.info("removed %d dead push token(s)", removed)

    # Topic membership ------------------------------------------------------------------------

    async def topics_once(self) -> RoundStats:
        """Apply one batch of queued topic (un)subscriptions."""
        stats = RoundStats()
        now = self.clock()
        async with self._write() as session:
            candidates = (
                select(
                    TopicChange.id,
                    TopicChange.token,
                    TopicChange.topic,
                    TopicChange.op,
                    TopicChange.attempts,
                )
                .where(TopicChange.status == QUEUED, TopicChange.next_attempt_at <= now)
                .order_by(TopicChange.next_attempt_at, TopicChange.id)
                .limit(1000)
                .with_for_update(skip_locked=True)
            )
            rows = await self._claim_rows(session, TopicChange, candidates, now)
        stats.claimed = len(rows)
        if not rows:
            return stats
        # Only the newest change per token and topic counts (the groups run concurrently, so an
        # add and a later remove of the same membership must not race): older ones are done.
        latest: dict[tuple[str, str], Any] = {}
        for row in sorted(rows, key=lambda r: r.id):
            latest[(row.token, row.topic)] = row
        items: list[_Item] = [
            _Item(r.id, r.attempts + 1, None, token=r.token, outcome={"status": "sent"})
            for r in rows
            if latest[(r.token, r.topic)] is not r
        ]
        groups: dict[tuple[str, str], list[Any]] = {}
        for row in latest.values():
            groups.setdefault((row.topic, row.op), []).append(row)

        async def apply(topic: str, op: str, members: list[Any]) -> None:
            tokens = [m.token for m in members]
            call = self.sender.subscribe if op == "add" else self.sender.unsubscribe
            group = [_Item(m.id, m.attempts + 1, None, token=m.token) for m in members]
            items.extend(group)
            try:
                results = await call(tokens, topic)
            except Exception as exc:
                logger.warning("topic %s %s failed: %r", op, topic, exc)
                for item in group:
                    item.outcome = self._after("retry", "UNAVAILABLE", None, item)
                return
            for item, result in zip(group, results, strict=True):
                outcome = result.outcome
                if op == "remove" and outcome == "dead":
                    outcome = "sent"  # a dead token follows nothing any more
                item.outcome = self._after(outcome, result.error_code, None, item)

        await asyncio.gather(*(apply(t, op, m) for (t, op), m in groups.items()))
        async with self._write() as session:
            await self._write_outcomes(session, TopicChange, items, stats, TOPIC_COLUMNS)
        return stats

    # Upkeep ----------------------------------------------------------------------------------

    async def sweep(self) -> int:
        """Put back in the queue whatever a dispatcher claimed and never recorded (it crashed,
        or lost its connection) once the lease has run out. Returns how many."""
        now = self.clock()
        total = 0
        async with self._write() as session:
            for model in (Delivery, TopicChange):
                result = await session.execute(
                    update(model)
                    .where(model.status == SENDING, model.lease_until < now)
                    .values(status=QUEUED, claimed_by=None, lease_until=None, updated_at=now)
                    .execution_options(synchronize_session=False)
                )
                total += int(getattr(result, "rowcount", 0) or 0)
            await session.execute(delete(ChannelHalt).where(ChannelHalt.halted_until <= now))
        if total:
            logger.warning("re-queued %d push record(s) stuck in sending", total)
        return total

    async def drain(self, max_rounds: int = 10_000) -> RoundStats:
        """Rounds until nothing is due now (tests, the CLI's one-shot mode)."""
        total = RoundStats()
        for _ in range(max_rounds):
            topic_stats = await self.topics_once()
            stats = await self.run_once()
            total.add(stats)
            total.add(topic_stats)
            if stats.claimed == 0 and topic_stats.claimed == 0:
                break
        return total

    async def run_forever(
        self,
        stop: asyncio.Event | None = None,
        *,
        wake: asyncio.Event | None = None,
        idle_seconds: float = 1.0,
        sweep_seconds: float = 30.0,
    ) -> None:
        """Send continuously: busy rounds back to back; when idle, wait for `wake` (set when a
        transaction commits outbox work, see app.push.wake) or `idle_seconds`, whichever comes
        first; a sweep every `sweep_seconds`. Errors are logged and the loop goes on."""
        stop = stop or asyncio.Event()
        wake = wake or asyncio.Event()
        loop = asyncio.get_running_loop()
        stopper = asyncio.create_task(_relay(stop, wake))
        next_sweep = 0.0
        try:
            await self._loop(stop, wake, loop, next_sweep, idle_seconds, sweep_seconds)
        finally:
            stopper.cancel()

    async def _loop(
        self,
        stop: asyncio.Event,
        wake: asyncio.Event,
        loop: asyncio.AbstractEventLoop,
        next_sweep: float,
        idle_seconds: float,
        sweep_seconds: float,
    ) -> None:
        while not stop.is_set():
            wake.clear()
            busy = False
            try:
                if loop.time() >= next_sweep:
                    await self.sweep()
                    next_sweep = loop.time() + sweep_seconds
                topic_stats = await self.topics_once()
                stats = await self.run_once()
                busy = stats.claimed > 0 or topic_stats.claimed > 0
            except Exception:
                logger.exception("push dispatcher round failed")
            if not busy:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), idle_seconds)


async def _relay(stop: asyncio.Event, wake: asyncio.Event) -> None:
    await stop.wait()
    wake.set()


def _failed(code: str | None) -> dict[str, Any]:
    return {"status": "failed", "error_code": code}


async def channel_halts(session: AsyncSession, now: datetime | None = None) -> list[ChannelHalt]:
    """Platforms on which sending is halted now."""
    rows = await session.execute(
        select(ChannelHalt).where(ChannelHalt.halted_until > (now or utcnow()))
    )
    return list(rows.scalars())


async def resume_channel(session: AsyncSession, platform: str) -> bool:
    result = await session.execute(delete(ChannelHalt).where(ChannelHalt.platform == platform))
    return bool(getattr(result, "rowcount", 0))
