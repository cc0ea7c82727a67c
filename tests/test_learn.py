"""mkt learn: ingest click logs (validated, idempotent, bad rows by line), plan traffic per slot, report CTRs."""
from __future__ import annotations

import csv
import json
import random
from pathlib import Path

import pytest

from mktcli.cli.app import run
from mktcli.registry.store import open_registry
from mktcli.poster import make_posters
from tests.conftest import GOOD

HEAD = ["creative_id", "segment", "channel", "day", "impressions", "clicks", "conversions", "cost", "origin"]


@pytest.fixture
def registered(tmp_path):
    """A registered bundle: 2 segments × app_banner + moments_16x9."""
    brief = tmp_path / "b.yaml"
    brief.write_text(GOOD, encoding="utf-8")
    res = make_posters(brief, tmp_path / "out", layered=False)
    return [c.data for c in res.creatives]


def _log(path: Path, rows: list[list], header=HEAD) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def _json(capsys, args) -> tuple[int, dict]:
    capsys.readouterr()
    code = run(args + ["--json"])
    return code, json.loads(capsys.readouterr().out)


def test_ingest_is_idempotent_reports_bad_rows_by_line_and_keeps_the_rest(registered, tmp_path, capsys):
    c = next(c for c in registered if c["channel"] == "app_banner")
    rows = [[c["id"], c["segment"], "app_banner", f"2026-12-0{d}", 1000, 20 + d, "", "", ""] for d in range(1, 5)]
    rows += [
        [c["id"], c["segment"], "app_banner", "2026-12-32", 1000, 10, "", "", ""],     # line 6: no such day
        [c["id"], c["segment"], "app_banner", "2026-12-05", 100, 101, "", "", ""],      # line 7: clicks > impressions
        ["", c["segment"], "app_banner", "2026-12-05", 100, 1, "", "", ""],             # line 8: no creative
        [c["id"], c["segment"], "app_banner", "2026-12-05", "many", 1, "", "", ""],     # line 9: not a number
        ["human-1", c["segment"], "app_banner", "2026-12-01", 900, 9, "", "", "human"],  # a creative made elsewhere
        [c["id"], c["segment"], "app_banner", "2026-12-01", 1000, 21, "", "", ""],      # line 11: same as line 2
    ]
    log = _log(tmp_path / "clicks.csv", rows)
    code, out = _json(capsys, ["learn", "ingest", str(log)])
    f = out["files"][0]
    assert code == 3 and f["added"] == 5 and f["unknown_creatives"] == 1
    assert [b["line"] for b in f["bad"]] == [6, 7, 8, 9]
    assert "day" in f["bad"][0]["error"] and "exceed" in f["bad"][1]["error"]
    code, out = _json(capsys, ["learn", "ingest", str(log)])   # the same file again adds nothing
    f = out["files"][0]
    assert f["added"] == 0 and f["updated"] == 0 and f["unchanged"] == 5
    from mktcli.learn.store import feedback

    with open_registry() as reg:
        assert len(feedback(reg)) == 5
    # a corrected export replaces the numbers it corrects; JSON lines work too
    fixed = tmp_path / "fixed.jsonl"
    fixed.write_text(json.dumps({"id": c["id"], "segment": c["segment"], "channel": "app_banner", "date": "20261201",
                                 "impressions": 1000, "clicks": 25}) + "\n", encoding="utf-8")
    code, out = _json(capsys, ["learn", "ingest", str(fixed)])
    assert code == 0 and out["files"][0]["updated"] == 1
    with open_registry() as reg:
        rows = feedback(reg, channel="app_banner")
    day1 = [r for r in rows if r["creative_id"] == c["id"] and r["day"].day == 1]
    assert len(day1) == 1 and day1[0]["clicks"] == 25 and day1[0]["brief"] == "test-loan"
    assert {r["origin"] for r in rows} == {"ai", "human"}


def test_a_file_that_cannot_be_read_is_a_clear_error(tmp_path, capsys):
    bad_header = _log(tmp_path / "x.csv", [["a", "b"]], header=["creative", "when"])
    code, out = _json(capsys, ["learn", "ingest", str(bad_header)])
    assert code == 2 and "header lacks" in out["error"] and "segment" in out["error"]
    code, out = _json(capsys, ["learn", "ingest", str(tmp_path / "missing.csv")])
    assert code == 2 and "no such file" in out["error"]
    (tmp_path / "x.xlsx").write_bytes(b"PK")
    assert run(["learn", "ingest", str(tmp_path / "x.xlsx")]) == 2


def _simulate(registered, tmp_path, days=10, seed=1, boost=None) -> Path:
    rng = random.Random(seed)
    rows = []
    for c in registered:
        if c["channel"] != "app_banner":
            continue
        ctr = 0.02 * (1.5 if boost and c["id"] == boost else 1.0)
        for d in range(1, days + 1):
            imp = rng.randint(3000, 5000)
            clicks = sum(rng.random() < ctr for _ in range(imp))
            rows.append([c["id"], c["segment"], "app_banner", f"2026-12-{d:02d}", imp, clicks, "", "", ""])
    for seg in {c["segment"] for c in registered}:
        for d in range(1, days + 1):
            rows.append(["human-1", seg, "app_banner", f"2026-12-{d:02d}", 4000, rng.randint(30, 50), "", "",
                         "human"])
    return _log(tmp_path / "sim.csv", rows)


def test_report_table_json_and_html_with_charts(registered, tmp_path, capsys):
    assert run(["learn", "ingest", str(_simulate(registered, tmp_path))]) == 0
    code, out = _json(capsys, ["learn", "report", "-o", str(tmp_path / "rep")])
    assert code == 0
    segs = {s["segment"] for s in out["segments"]}
    assert segs == {"养殖户", "种植户"}
    for cell in out["cells"]:
        lo, hi = cell["ci95"]
        assert lo <= cell["ctr"] <= hi and 0 <= lo and hi <= 1
    o = out["ai_vs_human"]["overall"]
    # AI creatives ran at ~2.0%, the human one at ~1.0%: the uplift is found, and its interval excludes 0
    assert 0.6 < o["uplift"] < 1.5 and o["ci95"][0] > 0 and o["ai_click_share"] > 0.5
    page = (tmp_path / "rep" / "report.html").read_text(encoding="utf-8")
    for png in ("ctr_by_family.png", "trend.png", "ai_vs_human.png"):
        blob = (tmp_path / "rep" / png).read_bytes()
        assert blob[:8] == b"\x89PNG\r\n\x1a\n" and len(blob) > 5000
    assert page.count("data:image/png;base64,") == 3 and "养殖户" in page
    code, out = _json(capsys, ["learn", "report", "--by", "colour"])
    assert code == 2 and "family" in out["error"]


def test_plan_gives_new_creatives_the_floor_and_the_better_one_more(registered, tmp_path, capsys):
    banners = [c for c in registered if c["channel"] == "app_banner"]
    best = banners[0]["id"]
    assert run(["learn", "ingest", str(_simulate(registered, tmp_path, boost=best))]) == 0
    code, plan = _json(capsys, ["learn", "plan", "--slot", "app_banner", "--today", "2026-12-11", "-o",
                                str(tmp_path / "plan.json")])
    assert code == 0 and plan["slot"] == "app_banner"
    assert plan["ok"] is True and plan["exit_code"] == 0   # the file is the plan; stdout adds the run's ok/exit_code
    assert json.loads((tmp_path / "plan.json").read_text()) == {k: v for k, v in plan.items()
                                                                 if k not in ("ok", "exit_code")}
    for seg, s in plan["segments"].items():
        assert abs(sum(e["share"] for e in s["creatives"]) - 1) < 1e-6
    seg = next(c["segment"] for c in banners if c["id"] == best)
    shares = {e["id"]: e["share"] for e in plan["segments"][seg]["creatives"]}
    assert max(shares, key=shares.get) == best     # 3.0% vs 2.0% vs the human 1.0%, over 10 days of traffic
    # a new creative (no traffic yet) gets at least the floor
    brief = tmp_path / "c.yaml"
    brief.write_text(GOOD.replace("name: test-loan", "name: new-loan").replace("补栏周转 不误农时", "春耕备耕 资金无忧"),
                     encoding="utf-8")
    new = [c.data for c in make_posters(brief, tmp_path / "out", layered=False).creatives
           if c.data["channel"] == "app_banner"]
    code, plan = _json(capsys, ["learn", "plan", "--slot", "app_banner", "--today", "2026-12-11"])
    for c in new:
        e = next(e for e in plan["segments"][c["segment"]]["creatives"] if e["id"] == c["id"])
        assert e["new"] and e["share"] >= 0.05 - 1e-9
    # same data, same seed → the same plan; errors are one-screen
    code2, again = _json(capsys, ["learn", "plan", "--slot", "app_banner", "--today", "2026-12-11"])
    assert again["segments"] == plan["segments"]
    code, out = _json(capsys, ["learn", "plan", "--slot", "no_such_slot"])
    assert code == 2 and "app_banner" in (out["hint"] or "")


HEADS = ["补栏周转 不误农时", "补栏有钱 轻松周转", "春耕备耕 资金无忧", "线上申请 审批便捷", "随借随还 安心经营",
         "补栏资金 随借随还", "经营周转 线上办理", "备耕资金 轻松申请", "补栏扩产 资金到位", "安心经营 线上申请",
         "资金无忧 审批便捷", "春耕补栏 一贷搞定"]


def test_distill_end_to_end_finds_a_planted_phrase_for_one_segment_only(tmp_path, capsys):
    """Twelve campaigns × three segments; creatives whose headline says 补栏 get +50% clicks among 养殖户 only."""
    import numpy as np

    rng = np.random.default_rng(7)
    rows = []
    for i, head in enumerate(HEADS):
        brief = tmp_path / f"b{i}.yaml"
        brief.write_text(GOOD.replace("name: test-loan", f"name: camp-{i}").replace("补栏周转 不误农时", head)
                         .replace("segments: [养殖户, 种植户]", "segments: [养殖户, 种植户, 个体工商户]")
                         .replace("channels: [app_banner, moments_16x9]", "channels: [dsp_300x250]"),
                         encoding="utf-8")
        for c in make_posters(brief, tmp_path / "out", layered=False).creatives:
            d = c.data
            ctr = 0.02 * (1.5 if ("补栏" in d["texts"]["headline"] and d["segment"] == "养殖户") else 1.0)
            for day in range(1, 8):
                n = int(rng.integers(4000, 6000))
                rows.append([d["id"], d["segment"], "dsp_300x250", f"2026-12-0{day}", n, int(rng.binomial(n, ctr)),
                             "", "", ""])
    assert run(["learn", "ingest", str(_log(tmp_path / "clicks.csv", rows))]) == 0
    out = tmp_path / "knowledge.yaml"
    code, res = _json(capsys, ["learn", "distill", "-o", str(out)])
    assert code == 0 and out.is_file()
    from mktcli.learn.distill import load_knowledge

    k = load_knowledge(out)
    assert "补栏" in out.read_text(encoding="utf-8") and res["knowledge"] == str(out)
    works = [(seg, e.feature) for seg, sk in k.segments.items() for e in sk.works]
    found = [(seg, f) for seg, f in works if "补栏" in f]
    assert found and {seg for seg, _ in found} == {"养殖户"}
    assert all(e.lift > 0 for e in k.segments["养殖户"].works if "补栏" in e.feature)
    # nothing else is claimed: every other phrase was drawn at the same click rate
    others = [(seg, f) for seg, f in works if "补栏" not in f]
    others += [(seg, e.feature) for seg, sk in k.segments.items() for e in sk.avoid]
    assert not others, others
    # the copy engine now ranks with it: the next render of a 养殖户 brief without a headline prefers 补栏 wording
    assert k.lift("养殖户", {"headline": "补栏有钱 轻松周转"}) > k.lift("养殖户", {"headline": "线上申请 审批便捷"})


def test_ingest_reads_every_file_before_writing_and_rejects_booleans(registered, tmp_path, capsys):
    c = registered[0]
    good = _log(tmp_path / "good.csv", [[c["id"], c["segment"], c["channel"], "2026-12-01", 100, 2, "", "", ""]])
    code, out = _json(capsys, ["learn", "ingest", str(good), str(tmp_path / "missing.csv")])
    assert code == 2 and "no such file" in out["error"]
    from mktcli.learn.store import feedback

    with open_registry() as reg:
        assert feedback(reg) == []   # the readable first file was not half-ingested
    assert run(["learn", "ingest", str(tmp_path)]) == 2   # a folder
    js = tmp_path / "b.jsonl"
    js.write_text(json.dumps({"creative_id": c["id"], "segment": c["segment"], "channel": c["channel"],
                              "day": "2026-12-02", "impressions": 10, "clicks": True}) + "\n", encoding="utf-8")
    code, out = _json(capsys, ["learn", "ingest", str(js)])
    assert code == 3 and out["files"][0]["bad"][0]["line"] == 1 and "true/false" in out["files"][0]["bad"][0]["error"]


def test_plan_blocks_failed_creatives_and_caps_a_flood_of_new_ones(registered, tmp_path, capsys):
    banners = [c for c in registered if c["channel"] == "app_banner"]
    assert run(["learn", "ingest", str(_simulate(registered, tmp_path))]) == 0
    # a campaign whose headline breaks a finance rule: blocked from approval, so no traffic either
    bad = tmp_path / "bad.yaml"
    bad.write_text(GOOD.replace("name: test-loan", "name: bad-loan").replace("补栏周转 不误农时", "稳赚周转 秒批到账"),
                   encoding="utf-8")
    bad_ids = {c.data["id"] for c in make_posters(bad, tmp_path / "out", layered=False).creatives}
    # and eight new campaigns at once
    for i in range(8):
        b = tmp_path / f"n{i}.yaml"
        b.write_text(GOOD.replace("name: test-loan", f"name: new-{i}").replace("补栏周转 不误农时", f"春耕备耕 资金无忧{i}"),
                     encoding="utf-8")
        make_posters(b, tmp_path / "out", layered=False)
    code, plan = _json(capsys, ["learn", "plan", "--slot", "app_banner", "--today", "2026-12-11"])
    assert code == 0 and any("failed error-level check" in n for n in plan["notes"])
    for seg, s in plan["segments"].items():
        ids = {e["id"] for e in s["creatives"]}
        assert not ids & bad_ids
        new = [e for e in s["creatives"] if e["new"]]
        assert len(new) == 8 and all(e["share"] >= 0.05 - 1e-9 for e in new)   # the floor
        # proven creatives keep half the slot; shares are rounded to 6 decimals and the rounding's remainder goes to
        # the first entry, so the sum may pass 0.5 by half a millionth per entry (0.500002 with one run order)
        slack = 5e-7 * len(s["creatives"]) + 1e-9
        assert sum(e["share"] for e in new) <= 0.5 + slack
        assert abs(sum(e["share"] for e in s["creatives"]) - 1) < 1e-6
    code, plan = _json(capsys, ["learn", "plan", "--slot", "app_banner", "--today", "2026-12-11", "--max-new", "1"])
    assert max(sum(e["share"] for e in s["creatives"] if e["new"]) for s in plan["segments"].values()) > 0.5
    (tmp_path / "adir").mkdir()
    assert run(["learn", "plan", "--slot", "app_banner", "-o", str(tmp_path / "adir")]) == 2
    assert run(["learn", "report", "-o", str(tmp_path / "bad.yaml")]) == 2
    assert banners
