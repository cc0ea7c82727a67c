"""Copy for a brief as mkt makes it (mkt poster, mkt copy, mkt check BRIEF): the copy engine's drafts through the
guard of the compliance rules in force, ranked by the learned knowledge the brief names (or MKT_HOME's).

It joins three layers — the copy engines (copywriting/), the guard (checks/copy_guard.py) and the knowledge file
(learn/knowledge.py) — so it lives here, in orchestration; copywriting/writer.py runs the loop with what it is
given."""
from __future__ import annotations

from typing import Any, Callable

from .brief import Brief
from .checks.copy_guard import CopyGuard
from .checks.rules import RuleSet
from .copywriting.base import CopyEngine
from .copywriting.writer import CopyResult, write_guarded
from .learn.knowledge import resolve_knowledge


def write_copy(brief: Brief, *, engine: str | CopyEngine = "template", segments: list[str] | None = None,
               n: int = 1, seed: int | None = None, retries: int = 1, engine_options: dict | None = None,
               on_progress: Callable[[int, int], None] | None = None, knowledge: Any = None,
               rules: RuleSet | None = None) -> CopyResult:
    """n guarded variants of copy for each segment of the brief, guarded by `rules` (default: the rules in force).

    With a knowledge file (`knowledge`: a Knowledge, a path, False for none; default: the brief's
    `copy.knowledge`, else MKT_HOME/knowledge/zh-CN.yaml when it exists) the template engine also writes
    candidates on the segment's learned phrases, the llm engine's prompt lists what worked and what to avoid, and
    each segment's variants are ordered by the predicted lift (stable), keeping n. Every variant still goes
    through the guard; a candidate the guard rejects is dropped."""
    return write_guarded(brief, CopyGuard(rules), engine=engine, segments=segments, n=n, seed=seed, retries=retries,
                         engine_options=engine_options, on_progress=on_progress,
                         knowledge=resolve_knowledge(brief, knowledge))
