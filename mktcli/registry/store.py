"""The creative registry: one SQLite file that remembers every creative mkt made — where its file is, what it says,
which engines, models and seeds made it, what the checks said, and its status (draft → approved → live, or
recalled) with the history of every change.

It answers the questions that come after a campaign ships: what is live where (`find`), take down everything that
says X (`recall`, with a withdrawal list per channel), and show a reviewer a fair sample (`sample`: stratified,
reproducible, with a self-contained HTML review sheet whose decisions come back through `record_decisions`).

Several mkt processes may write at once (a batch render registering bundles while a reviewer approves): WAL mode, a
30 s busy timeout and every write in a BEGIN IMMEDIATE transaction make writers queue instead of failing. WAL needs a
local file system (not NFS/SMB)."""
from __future__ import annotations

import csv
import io
import json
import math
import os
import random
import re
import secrets
import sqlite3
import time
import unicodedata
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta, timezone
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..checks import failed_errors
from ..errors import BriefError, ExitCode, MktError
from ..paths import user_dir
from ..textsafe import csv_cell
from ..export.bundle import MANIFEST, load_manifest, verify_bundle
from ..export.files import atomic_write, safe_join
from .review_sheet import render

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Iterable, Iterator

    from typing_extensions import Self

STATUSES = ("draft", "approved", "live", "recalled")
# the normal path (and its undo steps); anything may go to recalled, and recalled is final — both unless force
TRANSITIONS = {"draft": {"approved"}, "approved": {"live", "draft"}, "live": {"approved"}}
BUSY_TIMEOUT_S = 30.0
SHEET_THUMB_PX = 480

# Schema steps, in order: step n brings a file from user_version n-1 to n. Never edit a released step; append one.
MIGRATIONS: list[str] = [
    """
    CREATE TABLE creatives (
        id TEXT PRIMARY KEY,
        brief TEXT NOT NULL, brief_sha256 TEXT, brief_path TEXT, category TEXT,
        segment TEXT NOT NULL, channel TEXT NOT NULL, width INTEGER, height INTEGER, format TEXT,
        bundle_dir TEXT NOT NULL, manifest TEXT NOT NULL, path TEXT NOT NULL, sha256 TEXT, bytes INTEGER,
        texts TEXT NOT NULL DEFAULT '{}', search_text TEXT NOT NULL DEFAULT '',
        engines TEXT NOT NULL DEFAULT '{}', checks TEXT NOT NULL DEFAULT '[]', layers TEXT,
        errors INTEGER NOT NULL DEFAULT 0, warnings INTEGER NOT NULL DEFAULT 0,
        status TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'approved', 'live', 'recalled')),
        made_at TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL
    );
    CREATE INDEX creatives_brief ON creatives(brief);
    CREATE INDEX creatives_status ON creatives(status);
    CREATE INDEX creatives_stratum ON creatives(channel, segment);
    CREATE INDEX creatives_created ON creatives(created_at);
    CREATE TABLE recalls (
        id TEXT PRIMARY KEY, at TEXT NOT NULL, reason TEXT NOT NULL, selector TEXT NOT NULL,
        count INTEGER NOT NULL, out_dir TEXT, actor TEXT
    );
    CREATE TABLE audits (
        id TEXT PRIMARY KEY, at TEXT NOT NULL, fraction TEXT, requested INTEGER, size INTEGER NOT NULL,
        population INTEGER NOT NULL, seed INTEGER NOT NULL, filters TEXT NOT NULL, strata TEXT NOT NULL,
        sheet TEXT, actor TEXT
    );
    CREATE TABLE audit_items (
        audit_id TEXT NOT NULL REFERENCES audits(id), creative_id TEXT NOT NULL REFERENCES creatives(id),
        stratum TEXT NOT NULL, decision TEXT CHECK (decision IN ('pass', 'fail')), note TEXT,
        decided_at TEXT, decided_by TEXT, PRIMARY KEY (audit_id, creative_id)
    );
    CREATE TABLE events (
        id INTEGER PRIMARY KEY AUTOINCREMENT, creative_id TEXT NOT NULL REFERENCES creatives(id), at TEXT NOT NULL,
        action TEXT NOT NULL, from_status TEXT, to_status TEXT, reason TEXT, actor TEXT,
        recall_id TEXT REFERENCES recalls(id), audit_id TEXT REFERENCES audits(id),
        forced INTEGER NOT NULL DEFAULT 0, detail TEXT
    );
    CREATE INDEX events_creative ON events(creative_id, id)
    """,
    # 2: click feedback (mkt learn): one row per creative × segment × channel × day; no foreign key to creatives,
    # since a slot also shows creatives made elsewhere (by people), which feedback may name
    """
    CREATE TABLE feedback (
        creative_id TEXT NOT NULL, segment TEXT NOT NULL, channel TEXT NOT NULL, day TEXT NOT NULL,
        impressions INTEGER NOT NULL CHECK (impressions >= 0), clicks INTEGER NOT NULL CHECK (clicks >= 0),
        conversions INTEGER, cost REAL, origin TEXT CHECK (origin IN ('ai', 'human')),
        source TEXT, ingested_at TEXT NOT NULL,
        PRIMARY KEY (creative_id, segment, channel, day)
    );
    CREATE INDEX feedback_slot ON feedback(channel, segment, day);
    CREATE TABLE ingests (
        id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, file TEXT NOT NULL, sha256 TEXT NOT NULL,
        rows INTEGER NOT NULL, added INTEGER NOT NULL, updated INTEGER NOT NULL, unchanged INTEGER NOT NULL,
        bad INTEGER NOT NULL
    )
    """,
]


class RegistryError(MktError):
    """The registry file itself: written by a newer mkt, not a database, or held by another writer too long."""


class StatusRefused(MktError):
    """A status change the rules do not allow; nothing in the batch was changed."""

    def __init__(self, message: str, hint: str | None = None, exit_code: ExitCode = ExitCode.BAD_INPUT):
        super().__init__(message, hint)
        self.exit_code = exit_code


# ---------------------------------------------------------------------------------------------------- values


def normalize(text: str) -> str:
    """What phrase search compares: NFKC (full-width → half-width, compatibility forms folded), case-folded, with
    whitespace and invisible format characters (zero-width spaces, joiners) removed. Punctuation is kept, so
    '3.2%' does not match '32万'."""
    t = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in t if not ch.isspace() and unicodedata.category(ch) != "Cf")


def search_text(texts: dict[str, Any]) -> str:
    # one line per text: a phrase (which has no newline after normalize) never matches across two texts
    return "\n".join(normalize(v) for v in texts.values() if isinstance(v, str))


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _new_id(prefix: str) -> str:
    return f"{prefix}-{datetime.now(timezone.utc):%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


def _actor() -> str:
    try:
        import getpass

        return getpass.getuser()
    except Exception:  # noqa: BLE001 — no login name in some containers
        return os.environ.get("USER") or "unknown"


def parse_since(value: str | date | datetime) -> str:
    """A lower time bound as stored (UTC ISO): a date (2026-11-01, local midnight), a time (2026-11-01T09:00), or an
    age (7d, 12h, 30m)."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    else:
        text = str(value).strip()
        age = re.fullmatch(r"(\d+)\s*([dhm])", text)
        try:
            if age:
                unit = {"d": "days", "h": "hours", "m": "minutes"}[age.group(2)]
                moment = datetime.now(timezone.utc) - timedelta(**{unit: int(age.group(1))})
            else:
                moment = datetime.fromisoformat(text)
        except ValueError:
            moment = None
        if moment is None:
            raise BriefError(f"cannot read '{text}' as a time", key="--since",
                             hint="a date like 2026-11-01, a time like 2026-11-01T09:00, or an age like 7d or 12h")
    try:
        return moment.astimezone(timezone.utc).isoformat(timespec="seconds")  # naive = local time
    except (OverflowError, ValueError):   # 0001-01-01 in a timezone east of UTC: before year 1
        raise BriefError(f"'{value}' is too far back", key="--since", hint="a date from year 2 on, e.g. 2026-11-01") \
            from None


def parse_sample_size(text: str | float) -> tuple[Fraction | None, int | None]:
    """`5%` or `0.05` → a fraction; `20` → a count. Exact arithmetic, so 7% of 100 is 7, not 8."""
    raw = str(text).strip()
    hint = "a percentage (5%), a fraction (0.05) or a count (20)"
    try:
        if raw.endswith("%"):
            frac, count = Fraction(raw[:-1].strip()) / 100, None
        elif re.fullmatch(r"\d+", raw):
            frac, count = None, int(raw)
        else:
            frac, count = Fraction(raw), None
    except (ValueError, ZeroDivisionError):
        raise BriefError(f"cannot read '{raw}' as a sample size", key="--sample", hint=hint) from None
    if frac is not None and not 0 < frac <= 1:
        raise BriefError(f"sample fraction {raw} is not between 0 and 100%", key="--sample", hint=hint)
    if count is not None and count < 1:
        raise BriefError("sample count must be at least 1", key="--sample", hint=hint)
    return frac, count


def _listify(value: str | Iterable[str] | None) -> list[str] | None:
    if value is None:
        return None
    vals = [value] if isinstance(value, str) else list(value)
    return vals or None


# ---------------------------------------------------------------------------------------------------- results


@dataclass
class CreativeRecord:
    """One registered creative. `path` is relative to `bundle_dir`, as in the manifest; `abs_path` joins them."""

    id: str
    status: str
    brief: str
    brief_sha256: str | None
    brief_path: str | None
    category: str | None
    segment: str
    channel: str
    width: int | None
    height: int | None
    format: str | None
    bundle_dir: str
    manifest: str
    path: str
    sha256: str | None
    bytes: int | None
    texts: dict[str, str]
    engines: dict[str, Any]
    checks: list[dict[str, Any]]
    layers: dict[str, str] | None
    errors: int
    warnings: int
    made_at: str | None
    created_at: str
    updated_at: str

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> CreativeRecord:
        d = {k: v for k, v in dict(row).items() if k in cls.__dataclass_fields__}
        for k in ("texts", "engines", "checks", "layers"):
            d[k] = json.loads(d[k]) if d[k] is not None else None
        return cls(**d)

    @property
    def abs_path(self) -> Path:
        return Path(self.bundle_dir) / self.path

    @property
    def failed_checks(self) -> list[dict[str, Any]]:
        return [c for c in self.checks if not c.get("passed", True)]

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("checks")
        d["abs_path"] = str(self.abs_path)
        d["failed_checks"] = self.failed_checks
        return d


@dataclass
class RegisterResult:
    manifest: Path
    brief: str
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    recalled: list[str] = field(default_factory=list)   # re-registered, and they stay recalled

    def as_dict(self) -> dict[str, Any]:
        return {"manifest": str(self.manifest), "brief": self.brief, "added": self.added, "updated": self.updated,
                "recalled": self.recalled}


@dataclass
class StatusChange:
    status: str
    changed: list[tuple[str, str]] = field(default_factory=list)   # (id, status before)
    unchanged: list[str] = field(default_factory=list)             # already at the status
    skipped: list[str] = field(default_factory=list)               # recalled ones a --brief selection left alone

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status, "changed": [{"id": i, "from": f} for i, f in self.changed],
                "unchanged": self.unchanged, "skipped": self.skipped}


@dataclass
class Recall:
    id: str
    at: str
    reason: str
    selector: dict[str, Any]
    items: list[dict[str, Any]]        # id, segment, brief, channel, path, sha256, status_before
    out_dir: Path | None = None
    files: dict[str, Path] = field(default_factory=dict)   # channel → withdrawal list; "csv" → withdrawals.csv
    dry_run: bool = False

    def by_channel(self) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {}
        for it in self.items:
            out.setdefault(it["channel"], []).append(it)
        return dict(sorted(out.items()))

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "at": self.at, "reason": self.reason, "selector": self.selector,
                "count": len(self.items), "dry_run": self.dry_run,
                "out_dir": str(self.out_dir) if self.out_dir else None,
                "files": {k: str(v) for k, v in self.files.items()},
                "channels": {ch: len(v) for ch, v in self.by_channel().items()}, "creatives": self.items}


@dataclass
class AuditItem:
    creative_id: str
    stratum: str
    decision: str | None = None
    note: str | None = None
    decided_at: str | None = None
    decided_by: str | None = None


@dataclass
class Audit:
    id: str
    at: str
    seed: int
    fraction: str | None       # exact, e.g. "1/20"; None when a count was asked for
    requested: int | None
    population: int
    filters: dict[str, Any]
    items: list[AuditItem]
    sheet: Path | None = None
    strata: dict[str, tuple[int, int]] = field(default_factory=dict)   # stratum → (population, sampled)

    def tally(self) -> dict[str, int]:
        t = {"pass": 0, "fail": 0, "pending": 0}
        for it in self.items:
            t[it.decision or "pending"] += 1
        return t

    @property
    def ids(self) -> list[str]:
        return [it.creative_id for it in self.items]

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "at": self.at, "seed": self.seed, "fraction": self.fraction,
                "requested": self.requested, "population": self.population, "size": len(self.items),
                "filters": self.filters, "sheet": str(self.sheet) if self.sheet else None,
                "strata": {k: {"population": p, "sampled": s} for k, (p, s) in self.strata.items()},
                "tally": self.tally(), "items": [asdict(i) for i in self.items]}


# ---------------------------------------------------------------------------------------------------- registry


def registry_path(path: str | Path | None = None) -> Path:
    """The registry file: PATH, else $MKT_REGISTRY, else <MKT_HOME>/registry.db."""
    chosen = path or os.environ.get("MKT_REGISTRY") or user_dir() / "registry.db"
    return Path(chosen).expanduser()


def open_registry(path: str | Path | None = None) -> Registry:
    return Registry(registry_path(path))


class Registry:
    """The registry over one SQLite file (created and migrated on open). Use as a context manager or `close()`."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(self.path), timeout=BUSY_TIMEOUT_S, isolation_level=None)
        try:
            self._db.row_factory = sqlite3.Row
            self._db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            # switching a new file to WAL can report SQLITE_BUSY at once, without waiting, while another process
            # creates the same file: retry the setup (it is idempotent) until the busy timeout
            _retry_busy(self._setup)
        except BaseException as e:
            self._db.close()
            if isinstance(e, sqlite3.DatabaseError):
                raise self._db_error(e) from None
            raise

    def _setup(self) -> None:
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA synchronous = NORMAL")
        self._db.execute("PRAGMA foreign_keys = ON")
        self._migrate()

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- plumbing

    def _db_error(self, e: sqlite3.DatabaseError) -> RegistryError:
        if _is_busy(e):
            return RegistryError(f"the registry {self.path} is busy: another process held it for over "
                                 f"{BUSY_TIMEOUT_S:.0f} s", "another mkt is writing a lot at once; try again when it "
                                 "finishes (or check for a stuck process holding the file)")
        return RegistryError(f"cannot use the registry {self.path}: {e}",
                             "is it an SQLite file written by mkt? point --registry (or MKT_REGISTRY) at another file")

    @contextmanager
    def _tx(self, write: bool = True) -> Iterator[sqlite3.Connection]:
        """One transaction. Writes take the write lock up front (BEGIN IMMEDIATE): a deferred transaction that
        upgrades from read to write can fail at once with 'database is locked' instead of waiting its turn."""
        try:
            _retry_busy(lambda: self._db.execute("BEGIN IMMEDIATE" if write else "BEGIN"))
        except sqlite3.OperationalError as e:
            raise self._db_error(e) from None
        try:
            yield self._db
        except BaseException:
            if self._db.in_transaction:   # some errors (disk full …) have rolled back already
                self._db.execute("ROLLBACK")
            raise
        try:
            self._db.execute("COMMIT")
        except sqlite3.OperationalError as e:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise self._db_error(e) from None

    transaction = _tx   # public for the tables other layers keep in the registry file (learn/store.py)

    def schema_version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def _check_version(self, version: int) -> None:
        if version > len(MIGRATIONS):
            raise RegistryError(f"the registry {self.path} is schema version {version}; this mkt knows up to "
                                f"version {len(MIGRATIONS)}",
                                "a newer mkt wrote it: upgrade mkt (pip install -U mktcli), or point --registry "
                                "(or MKT_REGISTRY) at another file")

    def _migrate(self) -> None:
        self._check_version(self.schema_version())
        if self.schema_version() == len(MIGRATIONS):
            return
        with self._tx() as db:
            current = self.schema_version()   # another process may have migrated while we waited for the lock
            self._check_version(current)
            for n, step in enumerate(MIGRATIONS[current:], start=current + 1):
                # statement by statement: executescript() would COMMIT the open transaction first
                for stmt in step.split(";"):
                    if stmt.strip():
                        db.execute(stmt)
                db.execute(f"PRAGMA user_version = {n}")

    def _events(self, db: sqlite3.Connection, rows: list[dict[str, Any]]) -> None:
        cols = ("creative_id", "at", "action", "from_status", "to_status", "reason", "actor", "recall_id",
                "audit_id", "forced", "detail")
        db.executemany(f"INSERT INTO events ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                       [tuple(r.get(c, 0 if c == "forced" else None) for c in cols) for r in rows])

    def _where(self, *, status=None, channel=None, segment=None, brief=None, phrase=None, since=None, ids=None,
               exclude_status=None) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        args: list[Any] = []
        for col, val in (("status", status), ("channel", channel), ("segment", segment), ("brief", brief)):
            vals = _listify(val)
            if vals:
                if col == "status":
                    bad = [v for v in vals if v not in STATUSES]
                    if bad:
                        raise BriefError(f"unknown status '{bad[0]}'", key="--status", hint=", ".join(STATUSES))
                clauses.append(f"{col} IN (SELECT value FROM json_each(?))")
                args.append(json.dumps(vals, ensure_ascii=False))
        if exclude_status:
            clauses.append("status NOT IN (SELECT value FROM json_each(?))")
            args.append(json.dumps(_listify(exclude_status)))
        if phrase is not None:
            needle = normalize(phrase)
            if not needle:
                raise BriefError("the phrase is empty", key="--phrase",
                                 hint="give the words to look for, e.g. --phrase '补栏周转不误农时'")
            clauses.append("instr(search_text, ?) > 0")
            args.append(needle)
        if since is not None:
            clauses.append("created_at >= ?")
            args.append(parse_since(since))
        if ids is not None:
            clauses.append("id IN (SELECT value FROM json_each(?))")
            args.append(json.dumps(list(ids)))
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", args

    def _require_ids(self, db: sqlite3.Connection, ids: list[str], key: str = "ID") -> None:
        found = {r[0] for r in db.execute("SELECT id FROM creatives WHERE id IN (SELECT value FROM json_each(?))",
                                          (json.dumps(ids),))}
        unknown = [i for i in ids if i not in found]
        if unknown:
            more = f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else ""
            raise BriefError(f"no creative '{unknown[0]}' in the registry{more}", key=key,
                             hint="mkt ls shows the registered ids; mkt register BUNDLE adds a bundle made elsewhere")

    # -- register

    def register_manifest(self, manifest_path: str | Path, *, just_written: bool = False) -> RegisterResult:
        """Add (or update) every creative of a bundle's manifest.json. Upsert by id: files, texts and checks are
        refreshed, the status is kept — a recalled creative stays recalled (listed in `.recalled`).
        `just_written`: the caller wrote this bundle a moment ago under its lock (mkt poster, mkt batch), so its
        files are the ones the manifest lists — re-hashing them and re-making the approval page is skipped."""
        # refuses an incomplete bundle (no manifest.json) and a changed one (a file or the manifest edited): the
        # registry's sha256 values go into withdrawal lists, so they must be the files' real ones
        bundle_dir, data = load_manifest(manifest_path) if just_written else verify_bundle(manifest_path)
        path = bundle_dir / MANIFEST
        bundle = bundle_dir.resolve()
        brief = data.get("brief") or {}
        rows = [_creative_row(c, i, brief, data.get("created"), bundle, path.resolve())
                for i, c in enumerate(data["creatives"])]
        result = RegisterResult(path.resolve(), str(brief.get("name") or bundle.name))
        now, actor = _now(), _actor()
        cols = list(rows[0]) if rows else []
        keep = ("id", "created_at", "status")
        upsert = (f"INSERT INTO creatives ({', '.join(cols)}, status, created_at, updated_at) "
                  f"VALUES ({', '.join('?' * len(cols))}, 'draft', ?, ?) ON CONFLICT(id) DO UPDATE SET "
                  + ", ".join(f"{c} = excluded.{c}" for c in (*cols, "updated_at") if c not in keep))
        with self._tx() as db:
            before = {r["id"]: r["status"] for r in db.execute(
                "SELECT id, status FROM creatives WHERE id IN (SELECT value FROM json_each(?))",
                (json.dumps([r["id"] for r in rows]),))}
            if rows:
                db.executemany(upsert, [(*r.values(), now, now) for r in rows])
            events = []
            for r in rows:
                cid = r["id"]
                if cid in before:
                    result.updated.append(cid)
                    if before[cid] == "recalled":
                        result.recalled.append(cid)
                    events.append({"creative_id": cid, "at": now, "action": "reregistered", "actor": actor,
                                   "from_status": before[cid], "to_status": before[cid], "detail": str(path)})
                else:
                    result.added.append(cid)
                    before[cid] = "draft"   # a manifest listing an id twice updates the second time
                    events.append({"creative_id": cid, "at": now, "action": "registered", "actor": actor,
                                   "to_status": "draft", "detail": str(path)})
            self._events(db, events)
        return result

    # -- read

    def get(self, creative_id: str) -> CreativeRecord:
        row = self._db.execute("SELECT * FROM creatives WHERE id = ?", (creative_id,)).fetchone()
        if row is None:
            self._require_ids(self._db, [creative_id])
        return CreativeRecord.from_row(row)

    def find(self, *, status=None, channel=None, segment=None, brief=None, phrase: str | None = None,
             since: str | date | datetime | None = None, ids: Iterable[str] | None = None,
             limit: int | None = None) -> list[CreativeRecord]:
        """Creatives matching every filter given (str or list for status/channel/segment/brief), newest first.
        `phrase` matches any of a creative's texts after `normalize` (whitespace- and width-insensitive)."""
        where, args = self._where(status=status, channel=channel, segment=segment, brief=brief, phrase=phrase,
                                  since=since, ids=ids)
        sql = f"SELECT * FROM creatives{where} ORDER BY created_at DESC, brief, segment, channel, id"
        if limit:
            sql += f" LIMIT {int(limit)}"
        return [CreativeRecord.from_row(r) for r in self._db.execute(sql, args)]

    def count(self, **filters) -> int:
        where, args = self._where(**filters)
        return int(self._db.execute(f"SELECT count(*) FROM creatives{where}", args).fetchone()[0])

    def history(self, creative_id: str) -> list[dict[str, Any]]:
        self.get(creative_id)
        return [dict(r) for r in self._db.execute("SELECT * FROM events WHERE creative_id = ? ORDER BY id",
                                                  (creative_id,))]

    # -- status

    def set_status(self, ids: Iterable[str] | None, status: str, reason: str | None = None, *,
                   brief: str | None = None, force: bool = False) -> StatusChange:
        """Move creatives to `status`, all or none. Allowed: draft → approved → live (and back one step), anything
        → recalled. Refused unless `force` (which needs a reason and is recorded): leaving recalled, skipping a
        step, approving or going live with a failed error-level check. Selecting by `brief` leaves recalled
        creatives alone (`.skipped`) instead of refusing."""
        ids = list(ids or [])
        if status not in STATUSES:
            raise BriefError(f"unknown status '{status}'", key="STATUS", hint=", ".join(STATUSES))
        if not ids and not brief:
            raise BriefError("nothing to mark", key="ID", hint="give creative ids, or --brief NAME for a whole brief")
        reason = (reason or "").strip() or None
        if force and not reason:
            raise BriefError("--override-checks needs a --reason", key="--reason", hint="say why the rule is overridden")
        change = StatusChange(status)
        now, actor = _now(), _actor()
        with self._tx() as db:
            if ids:
                self._require_ids(db, ids)
            where, args = self._where(ids=ids or None, brief=brief)
            rows = db.execute(f"SELECT id, status, errors, checks FROM creatives{where} ORDER BY id", args).fetchall()
            if not rows:
                raise BriefError(f"no creatives of brief '{brief}' in the registry", key="--brief",
                                 hint="mkt ls shows the registered briefs")
            refused: list[tuple[str, str, bool]] = []   # (id, why, because of checks)
            for r in rows:
                cur = r["status"]
                if cur == status:
                    change.unchanged.append(r["id"])
                elif force:
                    change.changed.append((r["id"], cur))
                elif cur == "recalled":
                    if r["id"] in ids:
                        refused.append((r["id"], "recalled is final", False))
                    else:
                        change.skipped.append(r["id"])
                elif status != "recalled" and status not in TRANSITIONS.get(cur, set()):
                    refused.append((r["id"], f"{cur} → {status} is not allowed", False))
                elif status in ("approved", "live") and r["errors"]:
                    rules = sorted({c["rule"] for c in failed_errors(json.loads(r["checks"]))})
                    refused.append((r["id"], "failed error-level check(s): " + ", ".join(rules), True))
                else:
                    change.changed.append((r["id"], cur))
            if refused:
                shown = "; ".join(f"{i} ({why})" for i, why, _ in refused[:4])
                more = f"; and {len(refused) - 4} more" if len(refused) > 4 else ""
                checks_only = all(c for *_, c in refused)
                raise StatusRefused(
                    f"refused to mark {len(refused)} creative(s) {status}, so nothing changed: {shown}{more}",
                    "fix the creative and re-run mkt poster" if checks_only else
                    "the path is draft → approved → live; recalled is final. --override-checks --reason '…' overrides "
                    "(recorded in the history)",
                    ExitCode.CHECKS_FAILED if checks_only else ExitCode.BAD_INPUT)
            db.executemany("UPDATE creatives SET status = ?, updated_at = ? WHERE id = ?",
                           [(status, now, i) for i, _ in change.changed])
            self._events(db, [{"creative_id": i, "at": now, "action": "status", "from_status": before,
                               "to_status": status, "reason": reason, "actor": actor, "forced": int(force)}
                              for i, before in change.changed])
        return change

    # -- recall

    def recall(self, ids: Iterable[str] | None = None, *, brief: str | None = None, phrase: str | None = None,
               channel: str | list[str] | None = None, reason: str, out_dir: str | Path | None = None,
               dry_run: bool = False) -> Recall:
        """Recall every creative matching all the selectors given (ids, brief, phrase; channel narrows) and write a
        withdrawal list per channel plus withdrawals.csv into OUT_DIR (default <MKT_HOME>/recalls/<recall id>/).
        Nothing matched → a Recall with no items, and nothing is written. The registry changes and the files land
        together: a failed write rolls the status changes back."""
        ids = list(ids or [])
        reason = (reason or "").strip()
        if not reason:
            raise BriefError("a recall needs a reason", key="--reason",
                             hint="say why, e.g. --reason '监管通知：停用“不误农时”表述'; it goes into every withdrawal list")
        if not ids and brief is None and phrase is None:
            raise BriefError("nothing selects what to recall", key="ID",
                             hint="give creative ids, --brief NAME or --phrase TEXT")
        selector = {k: v for k, v in (("ids", ids), ("brief", brief), ("phrase", phrase),
                                      ("channel", _listify(channel))) if v}
        where, args = self._where(ids=ids or None, brief=brief, phrase=phrase, channel=channel)
        rec = Recall(_new_id("r"), _now(), reason, selector, [], dry_run=dry_run)
        actor = _actor()
        with self._tx(write=not dry_run) as db:
            if ids:
                self._require_ids(db, ids)
            rows = [CreativeRecord.from_row(r) for r in db.execute(
                f"SELECT * FROM creatives{where} ORDER BY channel, brief, segment, id", args)]
            rec.items = [{"id": r.id, "segment": r.segment, "brief": r.brief, "channel": r.channel,
                          "path": str(r.abs_path), "sha256": r.sha256, "status_before": r.status} for r in rows]
            if not rows or dry_run:
                return rec
            rec.out_dir = Path(out_dir) if out_dir else user_dir() / "recalls" / rec.id
            db.execute("INSERT INTO recalls (id, at, reason, selector, count, out_dir, actor) VALUES (?, ?, ?, ?, ?, ?, "
                       "?)", (rec.id, rec.at, reason, json.dumps(selector, ensure_ascii=False), len(rows),
                              str(rec.out_dir.resolve()), actor))
            db.executemany("UPDATE creatives SET status = 'recalled', updated_at = ? WHERE id = ?",
                           [(rec.at, r.id) for r in rows])
            self._events(db, [{"creative_id": r.id, "at": rec.at, "action": "recalled", "from_status": r.status,
                               "to_status": "recalled", "reason": reason, "actor": actor, "recall_id": rec.id}
                              for r in rows])
            try:
                rec.files = _write_withdrawals(rec)
            except OSError as e:   # the transaction rolls back: no recall without its withdrawal lists
                raise BriefError(f"cannot write the withdrawal lists to {rec.out_dir}: {e.strerror or e}",
                                 key="--out", hint="choose a folder you can write to; nothing was recalled") from None
        return rec

    # -- audit

    def sample(self, fraction: float | str | Fraction | None = None, *, count: int | None = None,
               seed: int | None = None, sheet: str | Path | None = None, status=None, channel=None, segment=None,
               brief=None, since=None) -> Audit:
        """A reproducible stratified sample for review, recorded as an audit, with an HTML review sheet.

        Strata are (channel, segment). The total is ceil(fraction × N) (at least 1), or `count`; each stratum gets
        its proportional share, rounded by largest remainder; within a stratum a `random.Random` seeded from
        (seed, stratum) picks from the ids in sorted order — so the same registry contents and seed give the same
        ids. Recalled creatives are left out unless `status` asks for them."""
        if (fraction is None) == (count is None):
            raise BriefError("give a sample fraction or a count", key="--sample",
                             hint="a percentage (5%), a fraction (0.05) or a count (20)")
        frac: Fraction | None = None
        if fraction is not None:
            frac = fraction if isinstance(fraction, Fraction) else parse_sample_size(
                fraction if isinstance(fraction, str) else repr(float(fraction)))[0]
            if frac is None:
                raise BriefError(f"sample fraction {fraction} is not between 0 and 1", key="--sample")
        elif count is not None and int(count) < 1:
            raise BriefError("sample count must be at least 1", key="--sample")
        seed = int(seed) if seed is not None else secrets.randbelow(2**31)
        filters = {k: v for k, v in (("status", _listify(status)), ("channel", _listify(channel)),
                                     ("segment", _listify(segment)), ("brief", _listify(brief)),
                                     ("since", parse_since(since) if since is not None else None)) if v}
        where, args = self._where(status=status, channel=channel, segment=segment, brief=brief, since=since,
                                  exclude_status=None if status else "recalled")
        rows = self._db.execute(f"SELECT id, channel, segment FROM creatives{where} ORDER BY id", args).fetchall()
        if not rows:
            raise BriefError("no creatives to sample", key="--sample",
                             hint="the filters match nothing in the registry: mkt ls shows what is there")
        n_total = len(rows)
        size = min(n_total, max(1, math.ceil(frac * n_total))) if frac is not None else min(int(count), n_total)
        strata: dict[str, list[str]] = {}
        for r in rows:
            strata.setdefault(f"{r['channel']}/{r['segment']}", []).append(r["id"])
        alloc = allocate(size, {k: len(v) for k, v in strata.items()}, seed)
        items = []
        for key in sorted(strata):
            picked = random.Random(f"{seed}/{key}").sample(sorted(strata[key]), alloc[key])
            items += [AuditItem(cid, key) for cid in sorted(picked)]
        audit = Audit(_new_id("a"), _now(), seed, str(frac) if frac is not None else None,
                      None if frac is not None else int(count), n_total, filters, items,
                      strata={k: (len(strata[k]), alloc[k]) for k in sorted(strata)})
        target = Path(sheet) if sheet else user_dir() / "audits" / f"{audit.id}.html"
        audit.sheet = target / f"{audit.id}.html" if target.is_dir() else target
        records = {r.id: r for r in self.find(ids=audit.ids)}
        html = render(audit, records)   # thumbnails are made before the write lock is taken
        actor = _actor()
        with self._tx() as db:
            db.execute("INSERT INTO audits (id, at, fraction, requested, size, population, seed, filters, strata, "
                       "sheet, actor) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       (audit.id, audit.at, audit.fraction, audit.requested, len(items), n_total, seed,
                        json.dumps(filters, ensure_ascii=False), json.dumps(audit.strata, ensure_ascii=False),
                        str(audit.sheet.resolve()), actor))
            db.executemany("INSERT INTO audit_items (audit_id, creative_id, stratum) VALUES (?, ?, ?)",
                           [(audit.id, it.creative_id, it.stratum) for it in items])
            self._events(db, [{"creative_id": it.creative_id, "at": audit.at, "action": "sampled", "actor": actor,
                               "audit_id": audit.id} for it in items])
            try:
                atomic_write(audit.sheet, html.encode("utf-8"))
            except OSError as e:
                raise BriefError(f"cannot write the review sheet {audit.sheet}: {e.strerror or e}", key="--out",
                                 hint="choose a file or folder you can write to; no audit was recorded") from None
        return audit

    def get_audit(self, audit_id: str) -> Audit:
        row = self._db.execute("SELECT * FROM audits WHERE id = ?", (audit_id,)).fetchone()
        if row is None:
            raise BriefError(f"no audit '{audit_id}' in the registry", key="AUDIT_ID",
                             hint="mkt audit (without --sample) lists the audits")
        items = [AuditItem(r["creative_id"], r["stratum"], r["decision"], r["note"], r["decided_at"],
                           r["decided_by"]) for r in self._db.execute(
            "SELECT * FROM audit_items WHERE audit_id = ? ORDER BY stratum, creative_id", (audit_id,))]
        strata = {k: (int(p), int(n)) for k, (p, n) in json.loads(row["strata"]).items()}
        return Audit(row["id"], row["at"], row["seed"], row["fraction"], row["requested"], row["population"],
                     json.loads(row["filters"]), items, Path(row["sheet"]) if row["sheet"] else None, strata)

    def audits(self, limit: int = 20) -> list[Audit]:
        ids = [r[0] for r in self._db.execute("SELECT id FROM audits ORDER BY at DESC, id DESC LIMIT ?", (limit,))]
        return [self.get_audit(i) for i in ids]

    def record_decisions(self, audit_id: str, decisions: list[dict[str, Any]] | dict[str, Any], *,
                         source: str | Path | None = None) -> Audit:
        """Record reviewers' pass/fail decisions and notes. `decisions` is the review sheet's download
        ({"audit_id", "decisions": [{"id", "decision": "pass"|"fail"|null, "note"}]}) or just its list. An entry
        with no decision and no note is left as it was. `source` (the file) only improves error messages."""
        audit = self.get_audit(audit_id)
        if isinstance(decisions, dict):
            if decisions.get("audit_id") not in (None, audit_id):
                raise BriefError(f"these decisions are for audit '{decisions['audit_id']}', not '{audit_id}'",
                                 file=source, key="audit_id", hint="record them under the audit they came from")
            decisions = decisions.get("decisions")
        if not isinstance(decisions, list):
            raise BriefError("no list of decisions", file=source, key="decisions",
                             hint='{"audit_id": "…", "decisions": [{"id": "c-…", "decision": "pass", "note": ""}]}')
        members = set(audit.ids)
        rows = []
        for i, d in enumerate(decisions):
            where = f"decisions[{i}]"
            if not isinstance(d, dict) or not isinstance(d.get("id"), str):
                raise BriefError("each decision needs an id", file=source, key=where, hint='{"id": "c-…", …}')
            if d["id"] not in members:
                raise BriefError(f"{d['id']} is not in audit {audit_id}", file=source, key=f"{where}.id",
                                 hint="record decisions only for the creatives the audit sampled")
            decision = d.get("decision")
            decision = decision.strip().lower() if isinstance(decision, str) and decision.strip() else None
            if decision not in (None, "pass", "fail"):
                raise BriefError(f"unknown decision '{d.get('decision')}'", file=source, key=f"{where}.decision",
                                 hint="pass, fail, or null for not decided yet")
            note = d.get("note")
            note = str(note).strip() if note not in (None, "") else None
            if decision or note:
                rows.append((d["id"], decision, note))
        now, actor = _now(), _actor()
        with self._tx() as db:
            db.executemany("UPDATE audit_items SET decision = coalesce(?, decision), note = coalesce(?, note), "
                           "decided_at = ?, decided_by = ? WHERE audit_id = ? AND creative_id = ?",
                           [(dec, note, now, actor, audit_id, cid) for cid, dec, note in rows])
            self._events(db, [{"creative_id": cid, "at": now, "action": "reviewed", "reason": note, "actor": actor,
                               "audit_id": audit_id, "detail": dec} for cid, dec, note in rows])
        return self.get_audit(audit_id)


# ---------------------------------------------------------------------------------------------------- helpers


def _is_busy(e: sqlite3.Error) -> bool:
    return "locked" in str(e) or "busy" in str(e)


def _retry_busy(step, timeout: float | None = None):
    """Run `step`, retrying while SQLite says busy/locked without having waited (the busy handler covers most
    waits; a few cases, such as the switch to WAL, skip it)."""
    deadline = time.monotonic() + (BUSY_TIMEOUT_S if timeout is None else timeout)
    delay = 0.005
    while True:
        try:
            return step()
        except sqlite3.OperationalError as e:
            if not _is_busy(e) or time.monotonic() + delay > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.2)


def allocate(size: int, strata: dict[str, int], seed: int = 0) -> dict[str, int]:
    """Split `size` over strata in proportion to their populations, by largest remainder (exact fractions, so the
    shares add up to `size`). Ties go to the bigger stratum, then in a seeded random order: with many small strata
    and a small sample, another seed covers other strata instead of always the first names."""
    total = sum(strata.values())
    quotas = {k: Fraction(size * n, total) for k, n in strata.items()}
    alloc = {k: math.floor(q) for k, q in quotas.items()}
    left = size - sum(alloc.values())
    order = sorted(strata)
    random.Random(f"{seed}/ties").shuffle(order)
    rank = {k: i for i, k in enumerate(order)}
    for k in sorted(strata, key=lambda k: (-(quotas[k] - alloc[k]), -strata[k], rank[k]))[:left]:
        alloc[k] += 1
    return alloc


def _creative_row(c: Any, i: int, brief: dict[str, Any], made_at: str | None, bundle: Path,
                  manifest: Path) -> dict[str, Any]:
    where = f"creatives[{i}]"
    if not isinstance(c, dict):
        raise BriefError("a creative entry is not an object", file=manifest, key=where)
    for k in ("id", "segment", "channel", "path"):
        if not isinstance(c.get(k), str) or not c[k]:
            raise BriefError(f"missing '{k}'", file=manifest, key=f"{where}.{k}",
                             hint="re-run mkt poster to rewrite the manifest")
    # paths outside the bundle never get here: register_manifest verifies the bundle first (verify_bundle)
    texts = {k: v for k, v in (c.get("texts") or {}).items() if isinstance(v, str)}
    checks = [k for k in c.get("checks") or [] if isinstance(k, dict)]
    failed = [k for k in checks if not k.get("passed", True)]
    return {
        "id": c["id"], "brief": str(brief.get("name") or bundle.name), "brief_sha256": brief.get("sha256"),
        "brief_path": brief.get("path"), "category": brief.get("category"), "segment": c["segment"],
        "channel": c["channel"], "width": c.get("width"), "height": c.get("height"), "format": c.get("format"),
        "bundle_dir": str(bundle), "manifest": str(manifest), "path": c["path"], "sha256": c.get("sha256"),
        "bytes": c.get("bytes"), "texts": json.dumps(texts, ensure_ascii=False), "search_text": search_text(texts),
        "engines": json.dumps(c.get("engines") or {}, ensure_ascii=False, default=str),
        "checks": json.dumps(checks, ensure_ascii=False, default=str),
        "layers": json.dumps(c["layers"], ensure_ascii=False) if isinstance(c.get("layers"), dict) else None,
        "errors": len(failed_errors(checks)),
        "warnings": sum(1 for k in failed if k.get("severity") == "warning"),
        "made_at": made_at,
    }


CSV_COLUMNS = ("recall_id", "at", "reason", "channel", "id", "segment", "brief", "path", "sha256", "status_before")
def _write_withdrawals(rec: Recall) -> dict[str, Path]:
    """<out>/<channel>.json per channel and <out>/withdrawals.csv for all (UTF-8 with BOM, so Excel reads Chinese)."""
    assert rec.out_dir is not None
    files: dict[str, Path] = {}
    keys = ("id", "segment", "brief", "path", "sha256", "status_before")
    for ch, items in rec.by_channel().items():
        doc = {"version": 1, "recall_id": rec.id, "at": rec.at, "reason": rec.reason, "channel": ch,
               "count": len(items), "creatives": [{k: it[k] for k in keys} for it in items]}
        path = safe_join(rec.out_dir, f"{ch}.json")
        atomic_write(path, (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode("utf-8"))
        files[ch] = path
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for it in sorted(rec.items, key=lambda it: (it["channel"], it["brief"], it["segment"], it["id"])):
        w.writerow([csv_cell(v) for v in (rec.id, rec.at, rec.reason, it["channel"], it["id"], it["segment"],
                                          it["brief"], it["path"], it["sha256"], it["status_before"])])
    files["csv"] = safe_join(rec.out_dir, "withdrawals.csv")
    atomic_write(files["csv"], buf.getvalue().encode("utf-8-sig"))
    return files
