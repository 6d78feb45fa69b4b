"""Every query of the procedure catalogue. The hot read (search) is Core statements, built once
per shape of filters and query and reused with bind parameters, matched by each database's text
index:

- PostgreSQL: the weighted tsvector expression of the GIN index ix_procedure_search (names A,
  the field B, everything else C; migration 0008), `@@` a tsquery;
- SQLite: the FTS5 table procedure_fts, MATCH, with bm25 (column weights 10, 4 and 1).

A query is folded (accents, đ, case) into words; every word must match and the last one also as
a prefix, since people stop typing early. Common abbreviations (tnhh, gcn, attp …) match as
themselves or as the words they stand for. When nothing matches, the search relaxes step by step
and says so:

1. typos: a word of 3 letters or more that is not in the vocabulary (procedure_term) is
   replaced by the nearest vocabulary words (edit distance 1; 2 for words of 8 letters or more;
   transpositions count 1), any of which may match; `Found.corrected` gives the query as
   corrected, with the words the best result holds;
2. every word as a prefix ("ki" finds "kinh", "ky"), with the corrections;
3. any of the words of 3 letters or more (OR), with the corrections: `Found.partial` is True, so
   a page can say that not every word was found.

Ranking: the database orders the matches by how many of the query's words the name holds, then
the field, then the shorter name (the same SQL on both databases; bm25's idf makes words found in
every procedure, like "ho" of hồ sơ, weigh nothing, and ts_rank over every match would read all
their texts again). The first RERANK_WINDOW are then re-ranked in Python: more query words in a
name (in any of its languages, English words by their stem), then the name with fewer other
words, then the whole phrase in it, then the field, then the database's rank (bm25 over the three
columns; ts_rank over the name and field parts). Both databases give the same first results. A
query that is exactly a procedure's code puts that procedure first.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import pairwise
from typing import Any
from urllib.parse import quote

from rapidfuzz import process
from rapidfuzz.distance import OSA
from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    Subquery,
    Text,
    and_,
    bindparam,
    case,
    column,
    func,
    literal,
    literal_column,
    or_,
    select,
    table,
    text,
)
from sqlalchemy.ext.asyncio import AsyncSession

from app.kit.text import search_terms
from app.org.models import Department
from app.places.models import Place
from app.procedures.models import (
    Agency,
    Level,
    LifeEvent,
    LifeEventStep,
    Online,
    Procedure,
    ProcedureField,
    ProcedureForm,
    ProcedureTerm,
)

procedure = Procedure.__table__
field_table = ProcedureField.__table__
agency_table = Agency.__table__
term_table = ProcedureTerm.__table__
form_table = ProcedureForm.__table__
life_event_table = LifeEvent.__table__
step_table = LifeEventStep.__table__
place_table = Place.__table__
department_table = Department.__table__

# What a list item shows (app.procedures.views.item): no steps, documents or legal texts.
LIST_COLUMNS: list[Any] = [
    procedure.c.id,
    procedure.c.code,
    procedure.c.name,
    procedure.c.level,
    procedure.c.online,
    procedure.c.processing_days,
    procedure.c.fee_total_vnd,
    procedure.c.updated_on,
    field_table.c.code.label("field_code"),
    field_table.c.name.label("field_name"),
    agency_table.c.code.label("agency_code"),
    agency_table.c.name.label("agency_name"),
]
ITEM_KEYS = tuple(c.key for c in LIST_COLUMNS if c.key != "id")
SEARCH_KEYS = ("search_name", "search_field", "search_body")

# Must be exactly the expression of ix_procedure_search (migration 0008) to use the index.
PG_VECTOR = (
    "(setweight(to_tsvector('simple', procedure.search_name), 'A')"
    " || setweight(to_tsvector('simple', procedure.search_field), 'B')"
    " || setweight(to_tsvector('simple', procedure.search_body), 'C'))"
)
# The name and field parts of it, ranked for the window of candidates (see _matching).
PG_WINDOW_VECTOR = (
    "(setweight(to_tsvector('simple', w.search_name), 'A')"
    " || setweight(to_tsvector('simple', w.search_field), 'B'))"
)
SQLITE_RANK = "bm25(procedure_fts, 10.0, 4.0, 1.0)"
_FTS = table("procedure_fts", column("rowid"))

# Candidates re-ranked in Python; beyond them the database's order stands (pages stay stable).
RERANK_WINDOW = 100
MAX_TERMS = 12
# Typo correction: words at least this long are corrected; longer ones allow two edits. Three
# letters, not four: a letter dropped from a four-letter syllable is the commonest slip
# ("php" for phép, "dng" for dụng), and left alone it sends the query to the any-word fallback
# (at 20,000 procedures: every procedure matched, 130-170 ms, and the wrong ones first). A short
# word has many neighbours (pha, phi, pho, phep …): all of them, up to MAX_ALTERNATIVES, may
# match, and the other words and the ranking choose.
CORRECT_MIN_LENGTH = 3
TWO_EDITS_FROM = 8
MAX_ALTERNATIVES = 8
# The OR fallback ignores shorter words (they would match nearly everything).
ANY_MIN_LENGTH = 3

_CODE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._-]{2,29}$")
_DIGIT = re.compile(r"\d")
_WORD = re.compile(r"^[0-9a-z]+$")


@dataclass(frozen=True)
class Filters:
    query: str | None = None  # words, any accents, typos tolerated
    field: str | None = None  # field code
    agency: str | None = None  # agency code
    level: str | None = None  # "province" | "commune"
    online: str | None = None  # "partial" | "full" | "any" (partial or full)


@dataclass
class Found:
    items: list[dict[str, Any]]  # each: code, name (dict), field_code, field_name (dict),
    # agency_code, agency_name (dict), level, online, processing_days, fee_total_vnd, updated_on
    total: int
    corrected: str | None  # the query as corrected when a typo was fixed, else None
    partial: bool = False  # True when only some of the words matched (the last fallback)


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


# Statements -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Shape:
    """Which filters a statement has (their values are bind parameters)."""

    field: bool
    agency: bool
    level: bool
    online: bool

    @staticmethod
    def of(filters: Filters) -> _Shape:
        return _Shape(
            bool(filters.field), bool(filters.agency), bool(filters.level), bool(filters.online)
        )


def _params(filters: Filters) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if filters.field:
        params["field_code"] = filters.field
    if filters.agency:
        params["agency_code"] = filters.agency
    if filters.level:
        params["level"] = filters.level
    if filters.online:
        params["online"] = (
            [Online.partial.value, Online.full.value]
            if filters.online == "any"
            else [filters.online]
        )
    return params


def _joined(source: Any) -> Any:
    return source.join(field_table, field_table.c.id == procedure.c.field_id).join(
        agency_table, agency_table.c.id == procedure.c.agency_id
    )


def _where(stmt: Select[Any], shape: _Shape) -> Select[Any]:
    stmt = stmt.where(procedure.c.retired_at.is_(None))
    if shape.field:
        stmt = stmt.where(
            procedure.c.field_id
            == select(field_table.c.id)
            .where(field_table.c.code == bindparam("field_code", type_=String))
            .scalar_subquery()
        )
    if shape.agency:
        stmt = stmt.where(
            procedure.c.agency_id
            == select(agency_table.c.id)
            .where(agency_table.c.code == bindparam("agency_code", type_=String))
            .scalar_subquery()
        )
    if shape.level:
        stmt = stmt.where(procedure.c.level == bindparam("level", type_=String))
    if shape.online:
        stmt = stmt.where(procedure.c.online.in_(bindparam("online", expanding=True)))
    return stmt


def _pg_match() -> Any:
    query = func.to_tsquery(literal_column("'simple'"), bindparam("tsquery", type_=String))
    return literal_column(PG_VECTOR), query


def _pg_found() -> Any:
    """The ids the text index matches, on their own (MATERIALIZED): the planner prices
    to_tsvector far below what building the vector of 1-2 kB of text costs, so with the filters
    beside the match it may prefer another index (ix_procedure_field_id_retired_at for
    `retired_at IS NULL`) and test every row's text: 267 ms instead of 3 at 2,000 procedures.
    With the match alone, and sequential scans off for the search (see search), only the GIN
    index can answer it."""
    vector, query = _pg_match()
    return (
        select(procedure.c.id)
        .where(vector.op("@@")(query))
        .cte("found")
        .prefix_with("MATERIALIZED")
    )


def _page(stmt: Select[Any]) -> Select[Any]:
    return stmt.limit(bindparam("page", type_=Integer)).offset(bindparam("skip", type_=Integer))


# How the words of an attempt look for themselves in a key: per query word, per alternative,
# "e" (a whole word), "p" (the start of a word) or the number of words of an abbreviation.
PlanShape = tuple[tuple[str, ...], ...]


def _plan_shape(plan: _Plan) -> PlanShape:
    return tuple(
        tuple(str(len(a.split())) if " " in a else ("p" if plan.prefix(i) else "e") for a in alts)
        for i, alts in enumerate(plan.alternatives)
    )


def _needles(plan: _Plan) -> dict[str, str]:
    """The bind parameters of _hits: ' word ' or ' word,' for a whole word (folded keys keep
    their commas), ' word' for the start of a word."""
    out: dict[str, str] = {}

    def whole(name: str, word: str) -> None:
        out[name], out[name + "c"] = f" {word} ", f" {word},"

    for i, alts in enumerate(plan.alternatives):
        for j, a in enumerate(alts):
            if " " in a:
                for k, w in enumerate(a.split()):
                    whole(f"w{i}_{j}_{k}", w)
            elif plan.prefix(i):
                out[f"w{i}_{j}"] = f" {a}"
            else:
                whole(f"w{i}_{j}", a)
    return out


def _hits(dialect: str, column: Any, shape: PlanShape) -> Any:
    """How many of the query's words a key holds as words: the same in SQL on both databases
    as the re-ranking's first measure in Python, so the window of candidates holds the
    procedures whose names hold the words, however common the words (bm25's idf makes words
    found everywhere, like "ho" of hồ sơ, count for nothing; ts_rank, which would read every
    match's whole text again, is left for the window)."""
    spaced = literal(" ", Text) + column + literal(" ", Text)
    find = func.strpos if dialect == "postgresql" else func.instr

    def has(name: str) -> Any:
        return find(spaced, bindparam(name, type_=String)) > 0

    def whole(name: str) -> Any:
        return or_(has(name), has(name + "c"))

    total: Any = literal(0, Integer)
    for i, kinds in enumerate(shape):
        options = []
        for j, kind in enumerate(kinds):
            if kind.isdigit():
                options.append(and_(*(whole(f"w{i}_{j}_{k}") for k in range(int(kind)))))
            else:
                options.append(has(f"w{i}_{j}") if kind == "p" else whole(f"w{i}_{j}"))
        total = total + case((or_(*options), 1), else_=0)
    return total


@lru_cache(maxsize=512)
def _matching(dialect: str, shape: _Shape, plan_shape: PlanShape) -> Select[Any]:
    """Live procedures matching the text query, those holding more of the query's words in
    their names first, then in their fields, then shorter names; each with the database's own
    rank (for the final tie-break) and the number of matches (count over the whole match)."""
    name_hits = _hits(dialect, procedure.c.search_name, plan_shape).label("name_hits")
    field_hits = _hits(dialect, procedure.c.search_field, plan_shape).label("field_hits")
    total = func.count().over().label("full_count")
    order = (name_hits.desc(), field_hits.desc(), func.length(procedure.c.search_name))
    if dialect == "postgresql":
        # ts_rank builds the vector again from the text (the index does not keep it): only for
        # the window, and of the name and field parts, which are short. Over the whole index
        # expression it cost 24 ms for a window of 200 at 20,000 procedures (bodies of 1-2 kB),
        # ten times the search itself; the body still decides what matches.
        found = _pg_found()
        keys = (procedure.c.search_name, procedure.c.search_field)
        inner = (
            _page(
                _where(
                    select(*LIST_COLUMNS, *keys, name_hits, field_hits, total).select_from(
                        _joined(found.join(procedure, procedure.c.id == found.c.id))
                    ),
                    shape,
                ).order_by(*order, procedure.c.id)
            )
        ).subquery("w")
        _vector, window_query = _pg_match()
        rank = func.ts_rank(literal_column(PG_WINDOW_VECTOR), window_query).label("rank")
        wanted = [inner.c[c.key] for c in LIST_COLUMNS]
        extra = [inner.c.name_hits, inner.c.field_hits, inner.c.full_count]
        return select(*wanted, *extra, rank).order_by(
            inner.c.name_hits.desc(),
            inner.c.field_hits.desc(),
            func.length(inner.c.search_name),
            inner.c.id,
        )
    hit = (
        select(literal_column("rowid").label("id"), literal_column(SQLITE_RANK).label("rank"))
        .select_from(text("procedure_fts"))
        .where(text("procedure_fts MATCH :fts"))
        .subquery("hit")
    )
    stmt = select(*LIST_COLUMNS, hit.c.rank, name_hits, field_hits, total).select_from(
        _joined(hit.join(procedure, procedure.c.id == hit.c.id))
    )
    return _page(_where(stmt, shape).order_by(*order, procedure.c.id))


@lru_cache(maxsize=128)
def _matching_count(dialect: str, shape: _Shape) -> Select[Any]:
    if dialect == "postgresql":
        found = _pg_found()
        stmt = select(func.count()).select_from(found.join(procedure, procedure.c.id == found.c.id))
    else:
        stmt = (
            select(func.count())
            .select_from(_FTS.join(procedure, procedure.c.id == _FTS.c.rowid))
            .where(text("procedure_fts MATCH :fts"))
        )
    return _where(stmt, shape)


@lru_cache(maxsize=64)
def _browsing(shape: _Shape) -> Select[Any]:
    """One field's procedures by name (folded, so both databases sort alike and Đ sorts with
    D), through ix_procedure_field_id_retired_at."""
    stmt = select(*LIST_COLUMNS).select_from(_joined(procedure))
    stmt = _where(stmt, shape).where(procedure.c.field_id == bindparam("field_id", type_=Integer))
    return _page(stmt.order_by(procedure.c.search_name, procedure.c.code))


@lru_cache(maxsize=64)
def _browsing_counts(shape: _Shape) -> Select[Any]:
    """Live procedures per field, fields in their order (position, then code)."""
    counted = (
        _where(select(procedure.c.field_id, func.count().label("n")), shape)
        .group_by(procedure.c.field_id)
        .subquery()
    )
    return (
        select(field_table.c.id, counted.c.n)
        .select_from(field_table.join(counted, counted.c.field_id == field_table.c.id))
        .order_by(field_table.c.position, field_table.c.code)
    )


async def _browse(
    session: AsyncSession, shape: _Shape, params: dict[str, Any], limit: int, offset: int
) -> Found:
    """Without a query: by field (its position), then by name. Counted per field first, then
    the page read from the one or two fields it falls in: sorting the whole catalogue by field
    position and name for every page took 46-55 ms at 20,000 procedures."""
    counts = [(int(i), int(n)) for i, n in await session.execute(_browsing_counts(shape), params)]
    items: list[dict[str, Any]] = []
    skip = offset
    for field_id, n in counts:
        if len(items) == limit:
            break
        if skip >= n:
            skip -= n
            continue
        values = {**params, "field_id": field_id, "page": limit - len(items), "skip": skip}
        rows = await session.execute(_browsing(shape), values)
        items += [_item(r) for r in rows.mappings()]
        skip = 0
    return Found(items, sum(n for _i, n in counts), None)


@lru_cache(maxsize=64)
def _by_code(shape: _Shape) -> Select[Any]:
    stmt = select(*LIST_COLUMNS).select_from(_joined(procedure))
    return _where(stmt, shape).where(procedure.c.code == bindparam("code", type_=String))


# Query words and typo correction ----------------------------------------------------------


def _split(text: str) -> list[str]:
    """Folded words as the indexes split them (letters and digits)."""
    words = [w for t in search_terms(text) for w in t.split("_") if w]
    return [w for w in words if _WORD.match(w)]


def terms_of_query(query: str) -> list[str]:
    """The words of a query that are searched (the first few)."""
    return _split(query)[:MAX_TERMS]


@dataclass
class _Vocabulary:
    version: tuple[int, int]
    terms: list[str]  # sorted
    known: frozenset[str]
    by_length: dict[int, list[str]] = field(default_factory=dict)


_vocabulary: _Vocabulary | None = None


async def _load_vocabulary(session: AsyncSession) -> _Vocabulary:
    """The vocabulary, cached in this process but keyed on (rows, total length) read from the
    database each time: terms are only ever added, so another worker's (or process's) additions
    change the key and the cache is never served stale."""
    global _vocabulary
    row = (
        await session.execute(
            select(func.count(), func.coalesce(func.sum(func.length(term_table.c.term)), 0))
        )
    ).one()
    version = (int(row[0]), int(row[1]))
    if _vocabulary is None or _vocabulary.version != version:
        terms = sorted(await session.scalars(select(term_table.c.term)))
        by_length: dict[int, list[str]] = {}
        for term in terms:
            by_length.setdefault(len(term), []).append(term)
        _vocabulary = _Vocabulary(version, terms, frozenset(terms), by_length)
    return _vocabulary


def _is_prefix_of_a_term(vocabulary: _Vocabulary, word: str) -> bool:
    at = bisect.bisect_left(vocabulary.terms, word)
    return at < len(vocabulary.terms) and vocabulary.terms[at].startswith(word)


def nearest_terms(vocabulary: _Vocabulary, word: str) -> list[str]:
    """The vocabulary words nearest to `word` within the allowed edits, best first (fewest
    edits; then those sharing the first letter; then longer ones, then the length; then
    alphabetical)."""
    edits = 2 if len(word) >= TWO_EDITS_FROM else 1
    found: list[tuple[int, str]] = []
    for length in range(len(word) - edits, len(word) + edits + 1):
        choices = vocabulary.by_length.get(length)
        if not choices:
            continue
        for term, distance, _index in process.extract(
            word, choices, scorer=OSA.distance, score_cutoff=edits, limit=None
        ):
            found.append((int(distance), term))
    if not found:
        return []
    best = min(d for d, _t in found)
    nearest = [t for d, t in found if d == best]
    # A letter left out is the commonest slip: longer words first ("dag": dang before dai).
    nearest.sort(key=lambda t: (t[0] != word[0], len(t) <= len(word), abs(len(t) - len(word)), t))
    return nearest[:MAX_ALTERNATIVES]


async def _corrections(session: AsyncSession, terms: list[str]) -> dict[int, list[str]]:
    """{position: nearest words} for the query words that look like typos."""
    candidates = [
        i
        for i, t in enumerate(terms)
        if len(t) >= CORRECT_MIN_LENGTH and not _DIGIT.search(t) and t not in ABBREVIATIONS
    ]
    if not candidates:
        return {}
    vocabulary = await _load_vocabulary(session)
    out: dict[int, list[str]] = {}
    last = len(terms) - 1
    for i in candidates:
        word = terms[i]
        if word in vocabulary.known or (i == last and _is_prefix_of_a_term(vocabulary, word)):
            continue
        nearest = nearest_terms(vocabulary, word)
        if nearest:
            out[i] = nearest
    return out


# Text query syntax ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Plan:
    """One attempt: per query word, the words it may be (itself and its corrections), which of
    them are prefixes, and whether all or any must match."""

    alternatives: tuple[tuple[str, ...], ...]
    prefix_all: bool
    any_word: bool

    def prefix(self, position: int) -> bool:
        return self.prefix_all or position == len(self.alternatives) - 1


# Abbreviations people type for words of procedure names: each is searched as itself or as
# the words it stands for (all of them, in any order).
ABBREVIATIONS = {
    "attp": "an toan thuc pham",
    "bhxh": "bao hiem xa hoi",
    "bhyt": "bao hiem y te",
    "cccd": "can cuoc cong dan",
    "cmnd": "chung minh nhan dan",
    "dkkd": "dang ky kinh doanh",
    "dvc": "dich vu cong",
    "gcn": "giay chung nhan",
    "gplx": "giay phep lai xe",
    "gpxd": "giay phep xay dung",
    "hkd": "ho kinh doanh",
    "lltp": "ly lich tu phap",
    "pccc": "phong chay chua chay",
    "qsdd": "quyen su dung dat",
    "tnhh": "trach nhiem huu han",
    "tthc": "thu tuc hanh chinh",
    "ubnd": "uy ban nhan dan",
}


def _searched(plan: _Plan) -> list[tuple[int, tuple[str, ...]]]:
    """The positions the database is asked about: every one, except that the OR fallback
    leaves out words too short to mean anything alone."""
    return [
        (i, alts)
        for i, alts in enumerate(plan.alternatives)
        if not plan.any_word or any(len(a) >= ANY_MIN_LENGTH for a in alts)
    ]


def _boolean_query(plan: _Plan, *, quote: str, both: str, either: str, star: str) -> str:
    """The plan as a full-text boolean query: words quoted, a phrase's words joined by `both`,
    alternatives by `either`, a prefix word followed by `star`."""
    parts = []
    for i, alts in _searched(plan):
        suffix = star if plan.prefix(i) else ""
        options = [
            "(" + both.join(f"{quote}{w}{quote}" for w in a.split()) + ")"
            if " " in a
            else f"{quote}{a}{quote}{suffix}"
            for a in alts
        ]
        parts.append(options[0] if len(options) == 1 else "(" + either.join(options) + ")")
    return (either if plan.any_word else both).join(parts)


def _pg_tsquery(plan: _Plan) -> str:
    return _boolean_query(plan, quote="'", both=" & ", either=" | ", star=":*")


def _sqlite_match(plan: _Plan) -> str:
    return _boolean_query(plan, quote='"', both=" AND ", either=" OR ", star="*")


def _first_plan(terms: list[str]) -> _Plan:
    alternatives = tuple((t, ABBREVIATIONS[t]) if t in ABBREVIATIONS else (t,) for t in terms)
    return _Plan(alternatives, prefix_all=False, any_word=False)


def _plans(first: _Plan, corrections: dict[int, list[str]]) -> list[_Plan]:
    """The attempts after the plain one, in order: corrected, every word a prefix, any word."""
    base = first.alternatives
    corrected = tuple(
        tuple(corrections[i]) if i in corrections else alts for i, alts in enumerate(base)
    )
    both = tuple((*alts, *corrections.get(i, ())) for i, alts in enumerate(base))
    plans = []
    if corrections:
        plans.append(_Plan(corrected, prefix_all=False, any_word=False))
    plans.append(_Plan(both, prefix_all=True, any_word=False))
    any_word = _Plan(both, prefix_all=True, any_word=True)
    if len(base) > 1 and _searched(any_word):
        plans.append(any_word)
    return plans


# Re-ranking -------------------------------------------------------------------------------


@lru_cache(maxsize=65_536)
def _words(name: str) -> tuple[str, ...]:
    return tuple(_split(name)) if name else ()


# Long words sharing their first half, and at least this many letters, count as one when
# re-ranking (registration, registering; business, businesses): English has no stemmer in the
# 'simple' configuration. Vietnamese syllables are shorter, so this never joins two of them.
STEM_LENGTH = 6
STEM_MIN_WORD = 7


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def _same_stem(word: str, other: str) -> bool:
    return (
        len(word) >= STEM_MIN_WORD
        and len(other) >= STEM_MIN_WORD
        and word[:STEM_LENGTH] == other[:STEM_LENGTH]
        and _common_prefix(word, other) > min(len(word), len(other)) // 2
    )


@dataclass(frozen=True)
class _Name:
    """A name split once: its words, as a set, how often each occurs, and joined."""

    words: frozenset[str]
    counts: dict[str, int]
    length: int
    joined: str


@lru_cache(maxsize=65_536)
def _name(text: str) -> _Name:
    words = _split(text)
    counts: dict[str, int] = {}
    for w in words:
        counts[w] = counts.get(w, 0) + 1
    return _Name(frozenset(words), counts, len(words), " " + " ".join(words))


@dataclass(frozen=True)
class _Wanted:
    """One query word as the re-ranking looks for it in names."""

    exact: frozenset[str]
    prefixes: tuple[str, ...]  # when it may be the start of a word
    stems: tuple[str, ...]  # long words, matched to words of the same stem
    groups: tuple[frozenset[str], ...]  # an abbreviation's words, all needed


class _Scorer:
    """Scores names against one attempt's words: (query words found in the name, minus the
    name's other words, the whole phrase in it), the best over the name's languages."""

    def __init__(self, plan: _Plan, phrases: Sequence[str]) -> None:
        self.wanted = []
        for i, alts in enumerate(plan.alternatives):
            singles = tuple(a for a in alts if " " not in a)
            self.wanted.append(
                _Wanted(
                    frozenset(singles),
                    singles if plan.prefix(i) else (),
                    tuple(a for a in singles if len(a) >= STEM_MIN_WORD),
                    tuple(frozenset(a.split()) for a in alts if " " in a),
                )
            )
        self.phrases = tuple(" " + p for p in phrases if p)

    def __call__(self, names: dict[str, str] | None) -> tuple[int, int, int]:
        best = (0, -1_000, 0)
        for value in (names or {}).values():
            name = _name(value)
            if not name.length:
                continue
            hits = 0
            matched: set[str] = set()
            for wanted in self.wanted:
                found = set(wanted.exact & name.words)
                if wanted.prefixes:
                    found.update(w for w in name.words if w.startswith(wanted.prefixes))
                if wanted.stems:
                    found.update(
                        w for w in name.words if any(_same_stem(w, s) for s in wanted.stems)
                    )
                for group in wanted.groups:
                    if group <= name.words:
                        found |= group
                if found:
                    hits += 1
                    matched |= found
            used = sum(name.counts[w] for w in matched)
            phrase = any(p in name.joined for p in self.phrases)
            best = max(best, (hits, used - name.length, int(phrase)))
        return best


def _rerank(
    rows: list[dict[str, Any]], plan: _Plan, phrases: Sequence[str], sign: int
) -> list[dict[str, Any]]:
    score = _Scorer(plan, phrases)
    head = rows[:RERANK_WINDOW]
    head.sort(key=lambda r: r["code"])
    head.sort(
        key=lambda r: (*score(r["name"]), r["field_hits"], sign * float(r["rank"] or 0)),
        reverse=True,
    )
    return head + rows[RERANK_WINDOW:]


def _item(row: Any) -> dict[str, Any]:
    return {key: row[key] for key in ITEM_KEYS}


# Search -----------------------------------------------------------------------------------


async def _run_plan(
    session: AsyncSession,
    dialect: str,
    shape: _Shape,
    params: dict[str, Any],
    plan: _Plan,
    limit: int,
    offset: int,
) -> tuple[list[dict[str, Any]], int]:
    """(the page, the total) of one attempt; the page re-ranked when it lies in the window."""
    match = {"tsquery": _pg_tsquery(plan)} if dialect == "postgresql" else {}
    if dialect != "postgresql":
        match = {"fts": _sqlite_match(plan)}
    stmt = _matching(dialect, shape, _plan_shape(plan))
    if offset >= RERANK_WINDOW:
        wanted, skip = limit, offset
    else:
        wanted, skip = max(RERANK_WINDOW, offset + limit), 0
    values = {**params, **match, **_needles(plan), "page": wanted, "skip": skip}
    rows = [dict(r) for r in (await session.execute(stmt, values)).mappings()]
    if rows:
        total = int(rows[0]["full_count"])
    else:
        counted = await session.scalar(_matching_count(dialect, shape), {**params, **match})
        total = int(counted or 0)
    if rows and skip == 0:
        sign = 1 if dialect == "postgresql" else -1
        phrases = {" ".join(a[0] for a in plan.alternatives)}
        phrases.add(" ".join(a[-1] for a in plan.alternatives))
        rows = _rerank(rows, plan, sorted(phrases), sign)[offset : offset + limit]
    return rows, total


def _corrected_query(
    terms: list[str], corrections: dict[int, list[str]], top: dict[str, Any] | None
) -> str:
    """The query with each typo replaced by the correction the best result holds (in its
    name or field), beside the query's next or previous word when it can ("dag ky": "dang",
    not "dai", in "Đăng ký đất đai"), else by the nearest word."""
    seen: set[str] = set()
    pairs: set[tuple[str, str]] = set()
    if top is not None:
        for texts in (top["name"], top["field_name"]):
            for value in (texts or {}).values():
                words = _words(value)
                seen.update(words)
                pairs.update(pairwise(words))
    out: list[str] = []
    for i, term in enumerate(terms):
        options = corrections.get(i)
        if not options:
            out.append(term)
            continue
        before = out[-1] if out else None
        after = terms[i + 1] if i + 1 < len(terms) and i + 1 not in corrections else None

        def fit(option: str, before: str | None = before, after: str | None = after) -> int:
            beside = (before, option) in pairs or (option, after) in pairs
            return 2 * beside + (option in seen)

        out.append(max(options, key=fit))  # the first of the best, in nearness order
    return " ".join(out)


async def search(session: AsyncSession, filters: Filters, *, limit: int, offset: int = 0) -> Found:
    """Live procedures matching the filters. With a query: ranked (name > field > body), typos
    corrected when nothing matches (see the module's docstring). Without: by field position,
    then name."""
    dialect = _dialect(session)
    shape = _Shape.of(filters)
    params = _params(filters)
    terms = terms_of_query(filters.query) if filters.query else []
    if not terms:
        return await _browse(session, shape, params, limit, offset)
    if dialect != "postgresql":
        return await _search_text(session, dialect, shape, params, filters, limit, offset)
    # The planner prices a sequential scan by its estimate of to_tsvector's cost, far below
    # what building the vector of 1-2 kB of text costs: on a catalogue of a few thousand it
    # scans every row (231 ms at 2,000 procedures) rather than the GIN index (5 ms). Only for
    # this search, in this transaction.
    previous = (
        await session.execute(
            text(
                "SELECT current_setting('enable_seqscan'),"
                " set_config('enable_seqscan', 'off', true)"
            )
        )
    ).scalar_one()
    found = await _search_text(session, dialect, shape, params, filters, limit, offset)
    await session.execute(
        text("SELECT set_config('enable_seqscan', :previous, true)"), {"previous": previous}
    )
    return found


async def _search_text(
    session: AsyncSession,
    dialect: str,
    shape: _Shape,
    params: dict[str, Any],
    filters: Filters,
    limit: int,
    offset: int,
) -> Found:
    assert filters.query is not None
    terms = terms_of_query(filters.query)
    first: dict[str, Any] | None = None
    query = filters.query.strip()
    if _CODE.match(query) and _DIGIT.search(query):
        found = (await session.execute(_by_code(shape), {**params, "code": query})).mappings()
        row = found.first()
        first = dict(row) if row else None

    plans = [_first_plan(terms)]
    corrections: dict[int, list[str]] = {}
    rows: list[dict[str, Any]] = []
    total = 0
    used: _Plan | None = None
    # With the code's procedure first, the text results follow it: read them from the start.
    wanted, skip = (offset + limit + 1, 0) if first else (limit, offset)
    index = 0
    while index < len(plans):
        plan = plans[index]
        rows, total = await _run_plan(session, dialect, shape, params, plan, wanted, skip)
        if total:
            used = plan
            break
        if index == 0:
            corrections = await _corrections(session, terms)
            plans += _plans(plans[0], corrections)
        index += 1

    if first is not None:
        others = [r for r in rows if r["code"] != first["code"]]
        counted = len(others) < len(rows) or (
            used is not None
            and total > len(rows)
            and await _matches(session, dialect, shape, params, used, first)
        )
        total += 0 if counted else 1
        rows = [first, *others][offset : offset + limit]
    corrected = None
    if used is not None and corrections and used is not plans[0]:
        corrected = _corrected_query(terms, corrections, rows[0] if rows else None)
    partial = used is not None and used.any_word
    return Found([_item(r) for r in rows], total, corrected, partial)


async def _matches(
    session: AsyncSession,
    dialect: str,
    shape: _Shape,
    params: dict[str, Any],
    plan: _Plan,
    row: dict[str, Any],
) -> bool:
    """Whether the text query matched this procedure too (so the total counts it once)."""
    if dialect == "postgresql":
        vector, query = _pg_match()
        stmt: Any = select(procedure.c.id).where(
            procedure.c.id == row["id"], vector.op("@@")(query)
        )
        match = {"tsquery": _pg_tsquery(plan)}
    else:
        stmt = (
            select(literal_column("rowid"))
            .select_from(text("procedure_fts"))
            .where(text("procedure_fts MATCH :fts AND rowid = :id"))
        )
        match = {"fts": _sqlite_match(plan), "id": row["id"]}
    return (await session.execute(stmt, match)).first() is not None


# Facets -----------------------------------------------------------------------------------


async def facets(session: AsyncSession) -> dict[str, list[dict[str, Any]]]:
    """How many live procedures each field, agency, level and kind of online service has."""
    counts = await session.execute(
        select(
            procedure.c.field_id,
            procedure.c.agency_id,
            procedure.c.level,
            procedure.c.online,
            func.count(),
        )
        .where(procedure.c.retired_at.is_(None))
        .group_by(
            procedure.c.field_id, procedure.c.agency_id, procedure.c.level, procedure.c.online
        )
    )
    by_field: dict[int, int] = {}
    by_agency: dict[int, int] = {}
    by_level = {level.value: 0 for level in Level}
    by_online = {online.value: 0 for online in (Online.full, Online.partial, Online.none)}
    for field_id, agency_id, level, online, n in counts:
        by_field[field_id] = by_field.get(field_id, 0) + n
        by_agency[agency_id] = by_agency.get(agency_id, 0) + n
        by_level[level] = by_level.get(level, 0) + n
        by_online[online] = by_online.get(online, 0) + n
    fields = []
    if by_field:
        rows = await session.execute(
            select(field_table.c.id, field_table.c.code, field_table.c.name)
            .where(field_table.c.id.in_(list(by_field)))
            .order_by(field_table.c.position, field_table.c.code)
        )
        fields = [{"code": c, "name": n, "count": by_field[i]} for i, c, n in rows]
    agencies = []
    if by_agency:
        rows = await session.execute(
            select(agency_table.c.id, agency_table.c.code, agency_table.c.name)
            .where(agency_table.c.id.in_(list(by_agency)))
            .order_by(agency_table.c.code)
        )
        agencies = [{"code": c, "name": n, "count": by_agency[i]} for i, c, n in rows]
        agencies.sort(key=lambda a: (_words(_vi(a["name"])), a["code"]))
    return {
        "fields": fields,
        "agencies": agencies,
        "levels": [{"code": k, "count": v} for k, v in by_level.items()],
        "online": [{"code": k, "count": v} for k, v in by_online.items()],
    }


def _vi(texts: dict[str, str] | None) -> str:
    texts = texts or {}
    return texts.get("vi") or next(iter(texts.values()), "")


def _live_counts(key: ColumnElement[Any]) -> Subquery:
    """(key, n): how many live (not retired) procedures have each value of the key column."""
    return (
        select(key, func.count().label("n"))
        .where(procedure.c.retired_at.is_(None))
        .group_by(key)
        .subquery()
    )


async def fields(session: AsyncSession) -> list[dict[str, Any]]:
    """Every field (lĩnh vực), in its position, with its live procedures counted."""
    live = _live_counts(procedure.c.field_id)
    rows = await session.execute(
        select(field_table.c.code, field_table.c.name, func.coalesce(live.c.n, 0))
        .select_from(field_table.outerjoin(live, live.c.field_id == field_table.c.id))
        .order_by(field_table.c.position, field_table.c.code)
    )
    return [{"code": c, "name": n, "count": int(k)} for c, n, k in rows]


async def agencies(session: AsyncSession) -> list[dict[str, Any]]:
    """Every implementing agency with where to find it, and its live procedures counted."""
    live = _live_counts(procedure.c.agency_id)
    rows = await session.execute(
        select(*_AGENCY_COLUMNS, func.coalesce(live.c.n, 0).label("count")).select_from(
            _agency_joined(agency_table.outerjoin(live, live.c.agency_id == agency_table.c.id))
        )
    )
    out = [_agency(dict(r)) | {"count": int(r["count"])} for r in rows.mappings()]
    out.sort(key=lambda a: (_words(_vi(a["name"])), a["code"]))
    return out


# One procedure ----------------------------------------------------------------------------

_AGENCY_COLUMNS: list[Any] = [
    agency_table.c.code.label("agency_code"),
    agency_table.c.name.label("agency_name"),
    agency_table.c.address.label("agency_address"),
    agency_table.c.phone.label("agency_phone"),
    agency_table.c.opening_hours.label("agency_opening_hours"),
    place_table.c.code.label("agency_place_code"),
    place_table.c.lat.label("agency_lat"),
    place_table.c.lon.label("agency_lon"),
    department_table.c.code.label("agency_department_code"),
]


def _agency_joined(source: Any) -> Any:
    return source.outerjoin(place_table, place_table.c.id == agency_table.c.place_id).outerjoin(
        department_table, department_table.c.id == agency_table.c.department_id
    )


def _agency(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "code": row["agency_code"],
        "name": row["agency_name"],
        "address": row["agency_address"],
        "phone": row["agency_phone"],
        "opening_hours": row["agency_opening_hours"],
        "place_code": row["agency_place_code"],
        "lat": row["agency_lat"],
        "lon": row["agency_lon"],
        "department_code": row["agency_department_code"],
    }


_DETAIL_COLUMNS: list[Any] = [
    *(c for c in procedure.c if c.key not in SEARCH_KEYS),
    field_table.c.code.label("field_code"),
    field_table.c.name.label("field_name"),
    *_AGENCY_COLUMNS,
]


def form_url(form_id: int, filename: str) -> str:
    """Where a form template is downloaded (app.procedures.forms)."""
    return f"/api/v1/procedure-forms/{form_id}/{quote(filename)}"


async def detail(
    session: AsyncSession, code: str, *, retired_ok: bool = False
) -> dict[str, Any] | None:
    """Every column of the procedure, its field, its agency and where to go, its form
    templates and the life events that contain it; None when unknown or (unless `retired_ok`)
    retired."""
    stmt = (
        select(*_DETAIL_COLUMNS)
        .select_from(_agency_joined(_joined(procedure)))
        .where(procedure.c.code == code)
    )
    row = (await session.execute(stmt)).mappings().first()
    if row is None or (row["retired_at"] is not None and not retired_ok):
        return None
    out = {c.key: row[c.key] for c in procedure.c if c.key not in SEARCH_KEYS}
    out["field"] = {"code": row["field_code"], "name": row["field_name"]}
    out["agency"] = _agency(dict(row))
    forms = await session.execute(
        select(form_table.c.id, form_table.c.filename, form_table.c.size, form_table.c.media_type)
        .where(form_table.c.procedure_id == row["id"])
        .order_by(form_table.c.created_at, form_table.c.id)
    )
    out["forms"] = [
        {"id": i, "filename": f, "size": s, "media_type": m, "url": form_url(i, f)}
        for i, f, s, m in forms
    ]
    events = await session.execute(
        select(life_event_table.c.slug, life_event_table.c.name)
        .select_from(
            step_table.join(life_event_table, life_event_table.c.id == step_table.c.life_event_id)
        )
        .where(step_table.c.procedure_id == row["id"], life_event_table.c.retired_at.is_(None))
        .order_by(life_event_table.c.position, life_event_table.c.slug)
    )
    out["life_events"] = [{"slug": s, "name": n} for s, n in events]
    return out


async def agencies_by_id(session: AsyncSession, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Agencies and where to go, by id (a life event's steps)."""
    if not ids:
        return {}
    rows = await session.execute(
        select(agency_table.c.id, *_AGENCY_COLUMNS)
        .select_from(_agency_joined(agency_table))
        .where(agency_table.c.id.in_(sorted(set(ids))))
    )
    return {r["id"]: _agency(dict(r)) for r in rows.mappings()}


async def life_event_exists(session: AsyncSession, slug: str) -> bool:
    """Whether a life event has this slug, retired or not."""
    found = await session.scalar(
        select(life_event_table.c.id).where(life_event_table.c.slug == slug)
    )
    return found is not None
