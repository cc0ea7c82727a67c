"""The feedback store: click logs (impressions, clicks, optional conversions and cost per creative × segment ×
channel × day) kept in the registry's SQLite file, beside the creatives they are about.

Ingesting is idempotent: a row's key is (creative, segment, channel, day); the same file twice adds nothing, a
corrected file replaces the numbers it corrects (and says how many). Bad rows are reported with their line numbers
and skipped; the good rows of the same file are kept."""
from __future__ import annotations

import csv
import hashlib
import json
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Iterator, Sequence

from pydantic import (BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator,
                      model_validator)

from ..errors import BriefError, MktError, clip
from ..limits import limits
from ..userfiles import check_regular

COLUMNS = ("creative_id", "segment", "channel", "day", "impressions", "clicks", "conversions", "cost", "origin")
ALIASES = {"id": "creative_id", "creative": "creative_id", "date": "day", "impr": "impressions",
           "impression": "impressions", "click": "clicks", "conv": "conversions", "conversion": "conversions",
           "spend": "cost"}
REQUIRED = ("creative_id", "segment", "channel", "day", "impressions", "clicks")
MAX_BAD_SHOWN = 50


class FeedbackFileError(MktError):
    """The file as a whole cannot be read (missing, wrong format, no required columns)."""


def _row_limits(info: ValidationInfo):
    """click_log limits: given once per file as the validation context (looking them up per row costs)."""
    return (info.context or {}).get("limits") or _limits().click_log


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

    @field_validator("creative_id", "segment", "channel", "origin")
    @classmethod
    def _printable(cls, v):   # a NUL or an escape sequence in a name would travel into reports and terminals
        if v is not None and any(unicodedata.category(ch) == "Cc" for ch in v):
            raise ValueError("contains a control character")
        return v

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

    @field_validator("impressions", "clicks", "conversions")
    @classmethod
    def _count_limit(cls, v, info: ValidationInfo):
        # SQLite stores 64-bit integers: 10^30 impressions must be a bad row, not a crash
        cap = _row_limits(info).max_count
        if v is not None and v > cap:
            raise ValueError(f"{clip(v, 24)} is over the limit of {cap:,} (click_log.max_count)")
        return v

    @field_validator("cost")
    @classmethod
    def _cost_limit(cls, v, info: ValidationInfo):
        cap = _row_limits(info).max_cost
        if v is not None and not (0 <= v <= cap):   # nan and inf too
            raise ValueError(f"{clip(v, 24)} is not a cost between 0 and {cap:,.0f} (click_log.max_cost)")
        return v

    @field_validator("day")
    @classmethod
    def _day_range(cls, v, info: ValidationInfo):
        # 0001-01-01 or 9999-12-31 would break the date arithmetic of plans and reports
        lim = _row_limits(info)
        if not lim.first_day <= v <= lim.last_day:
            raise ValueError(f"{v} is outside {lim.first_day} … {lim.last_day} (click_log.first_day/last_day)")
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


JSON_SUFFIXES = (".jsonl", ".ndjson", ".json")
CSV_SUFFIXES = (".csv", ".tsv", ".txt")


def _limits():
    return limits()


def check_file(path: Path) -> None:
    """What can be said of a click log before any row is read: a regular file (a FIFO or /dev/zero is refused,
    never read), a known format, a CSV header with the required columns. FeedbackFileError otherwise."""
    try:
        check_regular(path, "click log")
    except BriefError as e:
        if "not found" in e.message:
            raise FeedbackFileError(f"no such file: {clip(str(path))}", "give a .csv or .jsonl click log") from None
        raise FeedbackFileError(f"{clip(str(path))}: {e.message}",
                                "give the click log files themselves (.csv or .jsonl)") from None
    suffix = path.suffix.lower()
    if suffix not in JSON_SUFFIXES + CSV_SUFFIXES:
        raise FeedbackFileError(f"{clip(str(path))}: unknown click-log format '{clip(suffix, 20)}'",
                                "give a .csv (with a header row) or a .jsonl file (one JSON object per line)")
    if suffix in CSV_SUFFIXES:
        with _open_text(path) as f:
            _csv_header(path, f)


def _open_text(path: Path):
    # a streamed text file: nothing holds the whole log, whatever its length (1M rows is ~70 MB of CSV)
    return open(path, encoding="utf-8-sig", newline="")


def _bounded_lines(f, max_chars: int, too_long: list[int]) -> Iterator[str]:
    """The file's lines, none longer than max_chars: a longer one is skipped in chunks (never held whole), its line
    number noted in `too_long`, and an empty line given in its place (so line numbers stay right)."""
    n = 0
    while True:
        line = f.readline(max_chars + 1)
        if not line:
            return
        n += 1
        if len(line) > max_chars and not line.endswith("\n"):
            while (rest := f.readline(max_chars)) and not rest.endswith("\n"):
                pass
            too_long.append(n)
            yield "\n"
            continue
        yield line


def _csv_header(path: Path, f) -> tuple[list[str], object]:
    reader = csv.reader(f, delimiter="\t" if path.suffix.lower() == ".tsv" else ",")
    try:
        header = [_canonical(h) for h in next(reader)]
    except StopIteration:
        raise FeedbackFileError(f"{clip(str(path))} is empty",
                                "the first line is the header: " + ",".join(REQUIRED)) from None
    except csv.Error as e:
        raise FeedbackFileError(f"{clip(str(path))}:1: the header cannot be read ({clip(str(e), 60)})",
                                "columns: " + ",".join(REQUIRED)) from None
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise FeedbackFileError(f"{clip(str(path))}:1: the header lacks {', '.join(missing)}",
                                "columns: " + ",".join(REQUIRED) + "[,conversions,cost,origin]")
    return header, reader


def _read_rows(path: Path) -> Iterator[tuple[int, dict[str, Any] | None, str | None]]:
    """(line number, raw row or None, error) for every data row of a CSV or JSON-lines file, streamed. A line over
    files.click_log_line, a row nested deeper than click_log.max_json_depth, or one that is not an object is a bad
    row; a file that is not UTF-8 is a FeedbackFileError (the caller's transaction is rolled back)."""
    lim = _limits()
    max_line = lim.files.click_log_line
    too_long: list[int] = []
    try:
        with _open_text(path) as f:
            lines = _bounded_lines(f, max_line, too_long)
            if path.suffix.lower() in JSON_SUFFIXES:
                for n, line in enumerate(lines, start=1):
                    if too_long and too_long[-1] == n:
                        yield n, None, f"line longer than {max_line:,} characters"
                        continue
                    if not line.strip():
                        continue
                    if _json_depth(line) > lim.click_log.max_json_depth:
                        yield n, None, f"nested deeper than {lim.click_log.max_json_depth} levels (a row is a flat " \
                                       "JSON object)"
                        continue
                    try:
                        obj = json.loads(line)
                    except (ValueError, RecursionError) as e:
                        yield n, None, f"not JSON: {clip(getattr(e, 'msg', str(e)), 60)}"
                        continue
                    if not isinstance(obj, dict):
                        yield n, None, "a line must be a JSON object"
                        continue
                    yield n, {_canonical(str(k)): v for k, v in obj.items()}, None
                return
            csv.field_size_limit(max_line)
            header, reader = _csv_header(path, lines)
            reported = 0
            while True:
                try:
                    cells = next(reader)
                except StopIteration:
                    break
                except csv.Error as e:
                    yield reader.line_num, None, f"CSV: {clip(str(e), 80)}"
                    continue
                while reported < len(too_long):   # long lines were given as blank ones: report them in order
                    yield too_long[reported], None, f"line longer than {max_line:,} characters"
                    reported += 1
                if not any(c.strip() for c in cells):
                    continue
                if len(cells) != len(header):
                    yield reader.line_num, None, f"{len(cells)} fields, the header has {len(header)}"
                    continue
                yield reader.line_num, dict(zip(header, cells)), None
            for n in too_long[reported:]:
                yield n, None, f"line longer than {max_line:,} characters"
    except UnicodeDecodeError as e:
        raise FeedbackFileError(f"{clip(str(path))} is not UTF-8 text ({e.reason})",
                                "export the log as UTF-8 CSV or JSON lines") from None


def _json_depth(line: str) -> int:
    """How deep brackets nest in a JSON line (strings skipped), counted before json.loads would recurse."""
    depth = deepest = 0
    in_str = esc = False
    for ch in line:
        if in_str:
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def _describe(e: ValidationError) -> str:
    parts = []
    for err in e.errors():
        loc = ".".join(str(x) for x in err["loc"])
        msg = clip(err["msg"].removeprefix("Value error, "), 120)
        parts.append(f"{loc}: {msg}" if loc else msg)
    return "; ".join(parts)


_STAGE = """CREATE TEMP TABLE IF NOT EXISTS staged (
    creative_id TEXT NOT NULL, segment TEXT NOT NULL, channel TEXT NOT NULL, day TEXT NOT NULL,
    impressions INTEGER NOT NULL, clicks INTEGER NOT NULL, conversions INTEGER, cost REAL, origin TEXT,
    line INTEGER NOT NULL, PRIMARY KEY (creative_id, segment, channel, day))"""
_BATCH = 5000
_KEY = "creative_id = ? AND segment = ? AND channel = ? AND day = ?"
_SAME = ("f.impressions = s.impressions AND f.clicks = s.clicks AND f.conversions IS s.conversions AND "
         "f.cost IS s.cost AND f.origin IS s.origin")
_MATCH = "f.creative_id = s.creative_id AND f.segment = s.segment AND f.channel = s.channel AND f.day = s.day"


def ingest(reg, *paths: str | Path) -> list[IngestResult]:
    """Read click logs into the registry (see the module docstring), in one transaction: each file is checked as
    a whole first (FeedbackFileError: nothing is written), then streamed row by row into a staging table and merged
    into the feedback, so memory stays flat whatever the log's length. A file found unreadable part-way (not UTF-8)
    rolls everything back. Bad rows are in each result."""
    files = [Path(p) for p in paths]
    for p in files:
        check_file(p)
    results = []
    with reg.transaction() as db:
        known = {r[0] for r in db.execute("SELECT id FROM creatives")}
        for path in files:
            results.append(_ingest_one(db, path, known))
    return results


def _ingest_one(db, path: Path, known: set[str]) -> IngestResult:
    res = IngestResult(path)
    db.execute(_STAGE)
    db.execute("DELETE FROM staged")
    batch: list[tuple] = []

    def flush() -> None:
        before = db.total_changes
        db.executemany("INSERT OR IGNORE INTO staged VALUES (?,?,?,?,?,?,?,?,?,?)", batch)
        if db.total_changes - before < len(batch):   # a key seen before in this file: same numbers, or a conflict
            for row in batch:
                got = db.execute("SELECT line, impressions, clicks, conversions, cost, origin FROM staged "
                                 f"WHERE {_KEY}", row[:4]).fetchone()
                if got[0] != row[9] and tuple(got[1:]) != row[4:9]:   # the first stays, this one is reported
                    res.bad.append(BadRow(row[9], "same creative, segment, channel and day as line "
                                                  f"{got[0]} with other numbers"))
        batch.clear()

    ctx = {"limits": _limits().click_log}
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
            row = FeedbackRow.model_validate(raw, context=ctx)
        except ValidationError as e:
            res.bad.append(BadRow(line, _describe(e)))
            continue
        batch.append((*row.key(), *row.values(), line))
        if len(batch) >= _BATCH:
            flush()
    flush()
    res.bad.sort(key=lambda b: b.line)
    res.unknown_creatives = sum(1 for (cid,) in db.execute("SELECT creative_id FROM staged") if cid not in known)
    res.unchanged = db.execute(f"SELECT count(*) FROM staged s JOIN feedback f ON {_MATCH} AND {_SAME}"
                               ).fetchone()[0]
    res.updated = db.execute(f"SELECT count(*) FROM staged s JOIN feedback f ON {_MATCH} AND NOT ({_SAME})"
                             ).fetchone()[0]
    res.added = db.execute("SELECT count(*) FROM staged").fetchone()[0] - res.unchanged - res.updated
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    db.execute("INSERT OR REPLACE INTO feedback (creative_id, segment, channel, day, impressions, clicks, "
               "conversions, cost, origin, source, ingested_at) "
               "SELECT s.creative_id, s.segment, s.channel, s.day, s.impressions, s.clicks, s.conversions, s.cost, "
               f"s.origin, ?, ? FROM staged s WHERE NOT EXISTS (SELECT 1 FROM feedback f WHERE {_MATCH} AND {_SAME})",
               (path.name, now))
    db.execute("DELETE FROM staged")
    db.execute("INSERT INTO ingests (at, file, sha256, rows, added, updated, unchanged, bad) "
               "VALUES (?,?,?,?,?,?,?,?)", (now, str(path.resolve()), _file_sha256(path), res.rows, res.added,
                                           res.updated, res.unchanged, len(res.bad)))
    return res


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def feedback(reg, *, channel: str | Sequence[str] | None = None, segment: str | Sequence[str] | None = None,
             since: date | None = None, until: date | None = None) -> list[dict[str, Any]]:
    """Feedback rows joined with what the registry knows of each creative (brief, texts, status, engines).
    A creative the registry does not know has brief None and origin 'human' unless the log said otherwise.
    `channel` and `segment` take one name or several (any of them)."""
    where, args = [], []
    for col, val in (("f.channel", channel), ("f.segment", segment)):
        vals = [val] if isinstance(val, str) else list(val or ())
        if vals:
            where.append(f"{col} IN ({', '.join('?' * len(vals))})")
            args += vals
    if since:
        where.append("f.day >= ?")
        args.append(since.isoformat())
    if until:
        where.append("f.day <= ?")
        args.append(until.isoformat())
    # days outside click_log.first_day … last_day (rows ingested before that limit existed) are left out: a
    # 0001-01-01 would break the date arithmetic and charts of plans and reports
    lim = _limits().click_log
    where.append("f.day BETWEEN ? AND ?")
    args += [lim.first_day.isoformat(), lim.last_day.isoformat()]
    sql = ("SELECT f.*, c.brief, c.texts, c.status, c.engines, c.category, c.id IS NOT NULL AS known "
           "FROM feedback f LEFT JOIN creatives c ON c.id = f.creative_id"
           + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY f.day, f.creative_id, f.segment")
    out = []
    with reg.transaction(write=False) as db:
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
            try:
                d["day"] = date.fromisoformat(d["day"])
            except (TypeError, ValueError):   # a row edited by hand into something that is not a day
                continue
            out.append(d)
    return out
