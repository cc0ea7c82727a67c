"""The feedback store: click logs (impressions, clicks, optional conversions and cost per creative × segment ×
channel × day) kept in the registry's SQLite file, beside the creatives they are about.

Ingesting is idempotent: a row's key is (creative, segment, channel, day); the same file twice adds nothing, a
corrected file replaces the numbers it corrects (and says how many). Bad rows are reported with their line numbers
and skipped; the good rows of the same file are kept."""
from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..errors import MktError

COLUMNS = ("creative_id", "segment", "channel", "day", "impressions", "clicks", "conversions", "cost", "origin")
ALIASES = {"id": "creative_id", "creative": "creative_id", "date": "day", "impr": "impressions",
           "impression": "impressions", "click": "clicks", "conv": "conversions", "conversion": "conversions",
           "spend": "cost"}
REQUIRED = ("creative_id", "segment", "channel", "day", "impressions", "clicks")
MAX_BAD_SHOWN = 50


class FeedbackFileError(MktError):
    """The file as a whole cannot be read (missing, wrong format, no required columns)."""


class FeedbackRow(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    creative_id: str = Field(min_length=1)
    segment: str = Field(min_length=1)
    channel: str = Field(min_length=1)
    day: date
    impressions: int = Field(ge=0)
    clicks: int = Field(ge=0)
    conversions: int | None = Field(default=None, ge=0)
    cost: float | None = Field(default=None, ge=0)
    origin: str | None = None

    @field_validator("conversions", "cost", "origin", mode="before")
    @classmethod
    def _blank_is_none(cls, v):
        return None if isinstance(v, str) and not v.strip() else v

    @field_validator("impressions", "clicks", "conversions", "cost", mode="before")
    @classmethod
    def _no_booleans(cls, v):   # JSON true would pass as 1 click
        if isinstance(v, bool):
            raise ValueError("a count, not true/false")
        return v

    @field_validator("origin")
    @classmethod
    def _origin(cls, v):
        if v is not None and v.lower() not in ("ai", "human"):
            raise ValueError("origin is 'ai' or 'human'")
        return v.lower() if v else v

    @field_validator("day", mode="before")
    @classmethod
    def _day(cls, v):
        if isinstance(v, str) and len(v.strip()) == 8 and v.strip().isdigit():   # 20261201, as exports often write
            v = f"{v[:4]}-{v[4:6]}-{v[6:]}"
        return v

    @model_validator(mode="after")
    def _counts(self):
        if self.clicks > self.impressions:
            raise ValueError(f"clicks ({self.clicks}) exceed impressions ({self.impressions})")
        if self.conversions is not None and self.conversions > self.clicks:
            raise ValueError(f"conversions ({self.conversions}) exceed clicks ({self.clicks})")
        return self

    def key(self) -> tuple[str, str, str, str]:
        return (self.creative_id, self.segment, self.channel, self.day.isoformat())

    def values(self) -> tuple:
        return (self.impressions, self.clicks, self.conversions, self.cost, self.origin)


@dataclass
class BadRow:
    line: int
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "error": self.message}


@dataclass
class IngestResult:
    file: Path
    rows: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    bad: list[BadRow] = field(default_factory=list)
    unknown_creatives: int = 0        # rows naming creatives the registry does not know (kept: made elsewhere)

    def as_dict(self) -> dict[str, Any]:
        return {"file": str(self.file), "rows": self.rows, "added": self.added, "updated": self.updated,
                "unchanged": self.unchanged, "bad": [b.as_dict() for b in self.bad[:MAX_BAD_SHOWN]],
                "bad_count": len(self.bad), "unknown_creatives": self.unknown_creatives}


def _canonical(name: str) -> str:
    n = name.strip().lower().replace(" ", "_").replace("-", "_")
    return ALIASES.get(n, n)


def _read_rows(path: Path) -> Iterator[tuple[int, dict[str, Any] | None, str | None]]:
    """(line number, raw row or None, error) for every data row of a CSV or JSON-lines file."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise FeedbackFileError(f"no such file: {path}", "give a .csv or .jsonl click log") from None
    except UnicodeDecodeError as e:
        raise FeedbackFileError(f"{path} is not UTF-8 text ({e.reason} at byte {e.start})",
                                "export the log as UTF-8 CSV or JSON lines") from None
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):
        for n, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except ValueError as e:
                yield n, None, f"not JSON: {e.msg}"
                continue
            if not isinstance(obj, dict):
                yield n, None, "a line must be a JSON object"
                continue
            yield n, {_canonical(k): v for k, v in obj.items()}, None
        return
    if suffix not in (".csv", ".tsv", ".txt"):
        raise FeedbackFileError(f"{path}: unknown click-log format '{suffix}'",
                                "give a .csv (with a header row) or a .jsonl file (one JSON object per line)")
    reader = csv.reader(io.StringIO(text), delimiter="\t" if suffix == ".tsv" else ",")
    try:
        header = [_canonical(h) for h in next(reader)]
    except StopIteration:
        raise FeedbackFileError(f"{path} is empty", "the first line is the header: " + ",".join(REQUIRED)) from None
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise FeedbackFileError(f"{path}:1: the header lacks {', '.join(missing)}",
                                "columns: " + ",".join(REQUIRED) + "[,conversions,cost,origin]")
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            yield reader.line_num, None, f"CSV: {e}"
            continue
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            yield reader.line_num, None, f"{len(cells)} fields, the header has {len(header)}"
            continue
        yield reader.line_num, dict(zip(header, cells)), None


def _describe(e: ValidationError) -> str:
    parts = []
    for err in e.errors():
        loc = ".".join(str(x) for x in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        parts.append(f"{loc}: {msg}" if loc else msg)
    return "; ".join(parts)


@dataclass
class Parsed:
    """A click log read and validated, not yet written."""
    result: IngestResult
    rows: dict[tuple, tuple[int, FeedbackRow]]


def ingest(reg, path: str | Path) -> IngestResult:
    """Read a click log into the registry (see the module docstring). Raises FeedbackFileError when the file as a
    whole cannot be read; bad rows are in the result."""
    return write(reg, parse(path))


def parse(path: str | Path) -> Parsed:
    """Read and validate a click log (FeedbackFileError when it cannot be read at all): several files are all parsed
    before any is written, so a file that cannot be read stops the run before the registry changes."""
    path = Path(path)
    if path.is_dir():
        raise FeedbackFileError(f"{path} is a folder", "give the click log files themselves (.csv or .jsonl)")
    res = IngestResult(path)
    rows: dict[tuple, tuple[int, FeedbackRow]] = {}
    for line, raw, error in _read_rows(path):
        res.rows += 1
        if error:
            res.bad.append(BadRow(line, error))
            continue
        missing = [c for c in REQUIRED if raw.get(c) in (None, "")]
        if missing:
            res.bad.append(BadRow(line, "missing " + ", ".join(missing)))
            continue
        try:
            row = FeedbackRow.model_validate(raw)
        except ValidationError as e:
            res.bad.append(BadRow(line, _describe(e)))
            continue
        prev = rows.get(row.key())
        if prev is not None and prev[1].values() != row.values():   # which one is right? neither is taken
            res.bad.append(BadRow(line, f"same creative, segment, channel and day as line {prev[0]} with other "
                                        "numbers"))
            continue
        rows[row.key()] = (line, row)
    return Parsed(res, rows)


def write(reg, parsed: Parsed) -> IngestResult:
    """Store parsed rows in one transaction: new keys added, changed numbers updated, the same numbers left."""
    res, rows, path = parsed.result, parsed.rows, parsed.result.file
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    with reg._tx() as db:
        known = {r[0] for r in db.execute("SELECT id FROM creatives")}
        for key, (_, row) in rows.items():
            old = db.execute("SELECT impressions, clicks, conversions, cost, origin FROM feedback WHERE "
                             "creative_id = ? AND segment = ? AND channel = ? AND day = ?", key).fetchone()
            if row.creative_id not in known:
                res.unknown_creatives += 1
            if old is not None and tuple(old) == row.values():
                res.unchanged += 1
                continue
            db.execute("INSERT OR REPLACE INTO feedback (creative_id, segment, channel, day, impressions, clicks, "
                       "conversions, cost, origin, source, ingested_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                       (*key, *row.values(), path.name, now))
            if old is None:
                res.added += 1
            else:
                res.updated += 1
        db.execute("INSERT INTO ingests (at, file, sha256, rows, added, updated, unchanged, bad) "
                   "VALUES (?,?,?,?,?,?,?,?)", (now, str(path.resolve()), hashlib.sha256(path.read_bytes())
                                               .hexdigest(), res.rows, res.added, res.updated, res.unchanged,
                                               len(res.bad)))
    return res


def feedback(reg, *, channel: str | None = None, segment: str | None = None, since: date | None = None,
             until: date | None = None) -> list[dict[str, Any]]:
    """Feedback rows joined with what the registry knows of each creative (brief, texts, status, engines).
    A creative the registry does not know has brief None and origin 'human' unless the log said otherwise."""
    where, args = [], []
    for col, val in (("f.channel", channel), ("f.segment", segment)):
        if val:
            where.append(f"{col} = ?")
            args.append(val)
    if since:
        where.append("f.day >= ?")
        args.append(since.isoformat())
    if until:
        where.append("f.day <= ?")
        args.append(until.isoformat())
    sql = ("SELECT f.*, c.brief, c.texts, c.status, c.engines, c.category, c.id IS NOT NULL AS known "
           "FROM feedback f LEFT JOIN creatives c ON c.id = f.creative_id"
           + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY f.day, f.creative_id, f.segment")
    out = []
    with reg._tx(write=False) as db:
        for r in db.execute(sql, args):
            d = dict(r)
            d["texts"] = json.loads(d["texts"]) if d["texts"] else {}
            engines = json.loads(d.pop("engines")) if d.get("engines") else {}
            d["known"] = bool(d["known"])
            d["origin"] = d["origin"] or ("ai" if d["known"] else "human")
            d["aigc_visual"] = bool(engines.get("visual", {}).get("generative"))
            vis = engines.get("visual") or {}
            # how the poster looks: layout family, hero plate, variant (mkt poster --variants), and what its key
            # visual shows (the illustration engine's stage, hero object and theme)
            d["look"] = {**(engines.get("layout") or {}),
                         **{k: v for k, v in (("stage", vis.get("stage")), ("theme", vis.get("theme")),
                                              ("object", (vis.get("objects") or [None])[0])) if v}}
            d["day"] = date.fromisoformat(d["day"])
            out.append(d)
    return out
