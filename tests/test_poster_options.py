"""make_posters takes one PosterOptions and one PosterHooks; the keyword arguments of earlier releases still work
and give the same bundle."""
from __future__ import annotations

import json

import pytest

from mktcli import PosterHooks, PosterOptions, make_posters

from .conftest import EXAMPLES

BRIEF = EXAMPLES / "farm-loan.yaml"
SMALL = {"segments": ["养殖户·有优惠"], "channels": ["dsp_300x250", "sms"], "engine": "procedural",
         "layered": False, "register": False}


def _creatives(result) -> list[tuple]:
    return [(c.data["channel"], c.data["id"], c.data["sha256"]) for c in result.creatives]


def test_options_object_and_old_keywords_make_the_same_bundle(tmp_path):
    seen: list[str] = []
    started: list[tuple] = []
    new = make_posters(BRIEF, tmp_path / "new", PosterOptions(**SMALL),
                       hooks=PosterHooks(on_start=lambda jobs, engine: started.append((len(jobs), engine)),
                                         on_progress=lambda job, outcome: seen.append(job.channel.name)))
    old_seen: list[str] = []
    old = make_posters(BRIEF, tmp_path / "old", **SMALL, on_progress=lambda job, outcome: old_seen.append(
        job.channel.name))
    assert _creatives(new) == _creatives(old) and len(new.creatives) == 2
    assert started == [(1, "procedural")] and seen == old_seen == ["dsp_300x250"]
    m_new = json.loads(new.manifest_path.read_text(encoding="utf-8"))
    m_old = json.loads(old.manifest_path.read_text(encoding="utf-8"))
    assert [c["sha256"] for c in m_new["creatives"]] == [c["sha256"] for c in m_old["creatives"]]


def test_keywords_override_the_options_object(tmp_path):
    res = make_posters(BRIEF, tmp_path, PosterOptions(**SMALL), channels=["sms"])
    assert [c.data["channel"] for c in res.creatives] == ["sms"]


def test_an_unknown_keyword_is_a_type_error(tmp_path):
    with pytest.raises(TypeError, match="layers"):
        make_posters(BRIEF, tmp_path, layers=False)   # the field is `layered`
    assert not any(tmp_path.iterdir())
