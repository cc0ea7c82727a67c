"""The approval request (approval.html + approval.md) and `mkt export BUNDLE --zip`, on a real small bundle."""
from __future__ import annotations

import base64
import copy
import hashlib
import io
import json
import re
import shutil
import zipfile
from datetime import datetime
from html import escape
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import pytest
from PIL import Image, ImageChops, ImageStat

from mktcli.cli.app import run
from mktcli.export.approval import (
    THUMB_PX,
    approval_html,
    approval_markdown,
    write_approval,
)
from mktcli.export.bundle import export_zip

from .conftest import GOOD

_PIPELINE: dict[str, bool] = {}
BRIEF = GOOD.replace("channels: [app_banner, moments_16x9]", "channels: [app_banner, moments_16x9, sms]")


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    """One small bundle (2 segments × 2 posters + 2 SMS) with its approval files, made once for the module."""
    from mktcli import make_posters

    root = tmp_path_factory.mktemp("approval")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MKT_HOME", str(root / "home"))
        mp.setenv("SOURCE_DATE_EPOCH", "1790000000")
        brief = root / "brief.yaml"
        brief.write_text(BRIEF, encoding="utf-8")
        result = make_posters(brief, root / "out", engine="procedural")
    bundle_dir = result.out_dir
    mpath = bundle_dir / "manifest.json"
    manifest = json.loads(mpath.read_text(encoding="utf-8"))
    # what make_posters does once wired: the approval files, then manifest.json listing them
    without = {**manifest, "files": [f for f in manifest["files"] if not f["path"].startswith("approval.")]}
    entries = write_approval(bundle_dir, without)
    _PIPELINE["wrote_approval"] = any(f["path"] == "approval.html" for f in manifest["files"])
    if not _PIPELINE["wrote_approval"]:
        manifest["files"] += entries
        mpath.write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return bundle_dir


def _manifest(bundle_dir: Path) -> dict:
    return json.loads((bundle_dir / "manifest.json").read_text(encoding="utf-8"))


def _copy(bundle: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(bundle, tmp_path / bundle.name))


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.card: str | None = None
        self.card_imgs: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        if tag == "article":
            self.card = a.get("id")
        if tag == "img" and self.card:
            self.card_imgs[self.card] = a.get("src", "")


def _parse(html: str) -> _Page:
    p = _Page()
    p.feed(html)
    p.close()
    return p


def _blocked_manifest(bundle: Path) -> tuple[dict, dict]:
    """The bundle's manifest with one poster failing an error-level check, as make_posters would record it."""
    m = copy.deepcopy(_manifest(bundle))
    bad = next(c for c in m["creatives"] if c["format"] != "text")
    bad["checks"].append({"rule": "FIN-APR", "severity": "error", "passed": False,
                          "message": "年化利率 missing from the poster", "fix": "show 年化利率 next to the rate"})
    m["approval"] = {"ready": [c["id"] for c in m["creatives"] if c is not bad], "blocked": [bad["id"]],
                     "allow_errors": False}
    return m, bad


# ---------------------------------------------------------------- approval.html


def test_html_is_self_contained(bundle):
    html = (bundle / "approval.html").read_text(encoding="utf-8")
    page = _parse(html)
    imgs = [a for t, a in page.tags if t == "img"]
    assert len(imgs) == sum(1 for c in _manifest(bundle)["creatives"] if c["format"] != "text") == 4
    for t, a in page.tags:
        for attr in ("src", "href"):
            v = a.get(attr) or ""
            assert not re.match(r"(https?:)?//", v, re.IGNORECASE), (t, attr, v)
        assert t not in ("script", "link", "iframe", "object", "embed"), t
    assert "@import" not in html and not re.search(r"url\(\s*['\"]?(https?:)?//", html)
    for a in imgs:
        assert a["src"].startswith("data:image/jpeg;base64,")
        with Image.open(io.BytesIO(base64.b64decode(a["src"].split(",", 1)[1]))) as im:
            assert im.format == "JPEG" and max(im.size) <= THUMB_PX
            assert (int(a["width"]), int(a["height"])) == im.size


def test_html_thumbnails_are_the_posters(bundle):
    page = _parse((bundle / "approval.html").read_text(encoding="utf-8"))
    for c in _manifest(bundle)["creatives"]:
        if c["format"] == "text":
            continue
        with Image.open(io.BytesIO(base64.b64decode(page.card_imgs[c["id"]].split(",", 1)[1]))) as th, \
                Image.open(bundle / c["path"]) as orig:
            assert abs(th.width / th.height - c["width"] / c["height"]) < 0.02
            ref = orig.convert("RGB").resize(th.size, Image.LANCZOS)
            diff = ImageStat.Stat(ImageChops.difference(th.convert("RGB"), ref)).mean
            assert max(diff) < 6, (c["channel"], diff)


def test_html_has_every_creative_and_its_exact_text(bundle):
    html = (bundle / "approval.html").read_text(encoding="utf-8")
    m = _manifest(bundle)
    assert len(m["creatives"]) == 6
    for c in m["creatives"]:
        assert f'id="{c["id"]}"' in html
        for role in ("headline", "apr", "disclaimer", "provider", "body"):
            if role in c["texts"]:
                assert escape(c["texts"][role]) in html, (c["channel"], role)
        if c["format"] == "text":
            assert escape((bundle / c["path"]).read_text(encoding="utf-8").strip()) in html
        assert c["sha256"][:12] in html
    assert "6 ready for approval · 0 blocked by error-level checks" in html
    assert escape(m["brief"]["name"]) in html and m["created"] in html


def test_blocked_creative_is_marked(bundle):
    m, bad = _blocked_manifest(bundle)
    html = approval_html(bundle, m)
    card = re.search(rf'<article class="card (\w+)" id="{bad["id"]}">(.*?)</article>', html, re.DOTALL)
    assert card and card.group(1) == "blocked" and "BLOCKED" in card.group(2)
    body = card.group(2)
    assert "年化利率 missing from the poster" in body and "show 年化利率 next to the rate" in body
    assert body.index("FIN-APR") < body.index("checks passed")      # failed first, passed collapsed after
    assert body.count('class="card') == 0 and html.count('class="card blocked"') == 1
    assert "5 ready for approval · 1 blocked by error-level checks" in html
    # a manifest without an approval section is judged by its checks
    del m["approval"]
    assert html.count('class="card blocked"') == approval_html(bundle, m).count('class="card blocked"') == 1
    # --allow-errors: ready, but visibly so
    m["approval"] = {"ready": [c["id"] for c in m["creatives"]], "blocked": [], "allow_errors": True}
    allowed = approval_html(bundle, m)
    assert 'class="card blocked"' not in allowed and f'class="card allowed" id="{bad["id"]}"' in allowed


def test_failures_and_notes_are_listed(bundle):
    m = copy.deepcopy(_manifest(bundle))
    m["failures"] = [{"segment": "养殖户", "channel": "dsp_300x250", "error": "headline <too long>",
                      "hint": "shorten message.headline"}]
    m["notes"] = ["visual.engine auto: no CUDA GPU"]
    html, md = approval_html(bundle, m), approval_markdown(bundle, m)
    assert "headline &lt;too long&gt;" in html and "<too long>" not in html
    assert "shorten message.headline" in html and "visual.engine auto: no CUDA GPU" in html
    assert "1 failed to render" in html and "| 养殖户 | dsp_300x250 | headline &lt;too long&gt; |" in md


def test_layers_are_linked(bundle):
    m = copy.deepcopy(_manifest(bundle))
    c = next(c for c in m["creatives"] if c["format"] != "text")
    stem = c["path"].rsplit(".", 1)[0]
    for layers in ({"psd": {"path": f"{stem}.psd", "sha256": "0" * 64, "bytes": 1},   # as make_posters writes it
                    "svg": {"path": f"{stem}.svg", "sha256": "0" * 64, "bytes": 1}, "list": []},
                   {"psd": f"{stem}.psd", "svg": f"{stem}.svg", "names": ["background", "headline"]}):
        c["layers"] = layers
        html, md = approval_html(bundle, m), approval_markdown(bundle, m)
        card = re.search(rf'id="{c["id"]}">(.*?)</article>', html, re.DOTALL).group(1)
        hrefs = [unquote(h) for h in re.findall(r'href="([^"]+)"', card)]
        assert hrefs == [c["path"], f"{stem}.psd", f"{stem}.svg"]
        assert f"[PSD]({stem}.psd)" in md and f"[SVG]({stem}.svg)" in md


def test_text_is_escaped(bundle):
    m = copy.deepcopy(_manifest(bundle))
    c = next(c for c in m["creatives"] if c["format"] != "text")
    c["texts"]["headline"] = '<script>alert("x")</script>'
    html, md = approval_html(bundle, m), approval_markdown(bundle, m)
    assert "<script>" not in html and "&lt;script&gt;" in html
    # a ticket system may render HTML inside Markdown: the table cells are escaped too
    assert "<script>" not in md and '&lt;script&gt;alert("x")&lt;/script&gt;' in md


# ---------------------------------------------------------------- approval.md


def test_markdown_has_the_same(bundle):
    md = (bundle / "approval.md").read_text(encoding="utf-8")
    m = _manifest(bundle)
    assert "**6 ready for approval · 0 blocked by error-level checks**" in md
    for seg in {c["segment"] for c in m["creatives"]}:
        assert f"## {seg}" in md
    for c in m["creatives"]:
        row = next(line for line in md.splitlines() if f"`{c['id']}`" in line)
        assert f"| {c['channel']} |" in row and "| ready |" in row
        if c["format"] == "text":
            text = (bundle / c["path"]).read_text(encoding="utf-8")
            assert "\n>\n".join(f"> {ln}" for ln in text.splitlines() if ln.strip()) in md
        else:
            assert f"| {c['texts']['headline']} | {c['texts']['apr']} |" in row
            assert f"{c['width']}×{c['height']}" in row
    for target in re.findall(r"\]\(([^)]+)\)", md):   # every relative link points at a file of the bundle
        assert not target.startswith(("http:", "https:", "/")) and (bundle / target).is_file(), target


def test_markdown_blocked_row(bundle):
    m, bad = _blocked_manifest(bundle)
    md = approval_markdown(bundle, m)
    row = next(line for line in md.splitlines() if f"`{bad['id']}`" in line)
    assert "**BLOCKED**" in row and "FIN-APR (error)" in row
    assert "- **FIN-APR** (error): 年化利率 missing from the poster — fix: show 年化利率 next to the rate" in md
    assert "**5 ready for approval · 1 blocked by error-level checks**" in md


# ---------------------------------------------------------------- write_approval


def test_write_approval_is_deterministic_and_listed(bundle, tmp_path):
    m = _manifest(bundle)
    listed = {f["path"]: f for f in m["files"]}
    other = _copy(bundle, tmp_path)        # another place on disk: no absolute path may leak into the bytes
    entries = write_approval(other, {**m, "files": [f for f in m["files"] if not f["path"].startswith("approval.")]})
    assert [e["path"] for e in entries] == ["approval.html", "approval.md"]
    for e in entries:
        data = (other / e["path"]).read_bytes()
        assert e == {"path": e["path"], "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
        assert data == (bundle / e["path"]).read_bytes() and listed[e["path"]] == e
    assert str(tmp_path) not in (other / "approval.html").read_text(encoding="utf-8")
    assert not list(other.glob(".*.tmp"))


def test_pipeline_writes_approval(bundle):
    """make_posters lists the approval files in manifest.json, made from the manifest without them."""
    if not _PIPELINE["wrote_approval"]:
        pytest.skip("make_posters does not call write_approval yet")
    m = _manifest(bundle)
    html = (bundle / "approval.html").read_bytes()
    assert hashlib.sha256(html).hexdigest() == next(f["sha256"] for f in m["files"] if f["path"] == "approval.html")
    without = {**m, "files": [f for f in m["files"] if not f["path"].startswith("approval.")]}
    assert approval_html(bundle, without).encode("utf-8") == html


# ---------------------------------------------------------------- mkt export --zip


def test_export_zip_has_every_listed_file(bundle, tmp_path, capsys):
    out = tmp_path / "dist" / "bundle.zip"
    code = run(["export", str(bundle), "--zip", "-o", str(out), "--json"])
    payload = json.loads(capsys.readouterr().out)
    assert code == 0 and payload["ok"] and payload["zip"] == str(out)
    m = _manifest(bundle)
    paths = sorted({f["path"] for f in m["files"]} | {"manifest.json"})
    assert {"approval.html", "approval.md"} <= set(paths)
    c = datetime.fromisoformat(m["created"])
    created = (c.year, c.month, c.day, c.hour, c.minute, c.second - c.second % 2)   # zip keeps 2-second steps
    with zipfile.ZipFile(out) as zf:
        infos = zf.infolist()
        assert [i.filename for i in infos] == [f"{bundle.name}/{p}" for p in paths]
        assert payload["files"] == len(infos) and payload["bytes"] == out.stat().st_size
        for i in infos:
            rel = i.filename.split("/", 1)[1]
            assert zf.read(i) == (bundle / rel).read_bytes()
            assert i.date_time == created   # the manifest's date, not the clock's
            assert i.compress_type == (zipfile.ZIP_STORED if rel.endswith((".jpg", ".png")) else zipfile.ZIP_DEFLATED)
            if not rel.isascii():
                assert i.flag_bits & 0x800, rel   # UTF-8 names: Chinese folders survive any unzip
        for f in m["files"]:
            assert hashlib.sha256(zf.read(f"{bundle.name}/{f['path']}")).hexdigest() == f["sha256"]
        assert any("养殖户" in i.filename for i in infos)
    assert not list(out.parent.glob(".*.tmp"))


def test_export_zip_is_deterministic(bundle, tmp_path):
    first = export_zip(bundle, tmp_path / "a.zip")
    other = _copy(bundle, tmp_path / "elsewhere")
    second = export_zip(other)
    assert second == other.parent / f"{bundle.name}.zip"
    assert first.read_bytes() == second.read_bytes()


def test_export_refuses_incomplete_bundle(bundle, tmp_path, capsys):
    b = _copy(bundle, tmp_path)
    (b / "manifest.json").unlink()
    code = run(["export", str(b), "--zip"])
    err = capsys.readouterr().err
    assert code == 2 and "incomplete bundle" in err and "mkt poster" in err and "Traceback" not in err
    assert not (tmp_path / f"{b.name}.zip").exists()


@pytest.mark.parametrize("tamper,expect", [
    ("flip", "sha256 differs"),
    ("delete", "missing"),
    ("append", "bytes, manifest says"),
])
def test_export_refuses_tampered_bundle(bundle, tmp_path, capsys, tamper, expect):
    b = _copy(bundle, tmp_path)
    m = _manifest(b)
    victim = next(c for c in m["creatives"] if c["format"] == ("text" if tamper == "append" else "jpeg"))
    p = b / victim["path"]
    if tamper == "flip":
        data = bytearray(p.read_bytes())
        data[len(data) // 2] ^= 0xFF
        p.write_bytes(bytes(data))
    elif tamper == "delete":
        p.unlink()
    else:
        p.write_text(p.read_text(encoding="utf-8") + "加一句\n", encoding="utf-8")
    earlier = tmp_path / f"{b.name}.zip"
    earlier.write_bytes(b"an earlier export")
    code = run(["export", str(b), "--zip"])
    err = capsys.readouterr().err.replace("\n", " ")
    assert code == 2 and expect in err and "Traceback" not in err
    assert victim["path"] in re.sub(r"\s+", "", err), err
    assert earlier.read_bytes() == b"an earlier export"      # a refused export leaves an earlier zip alone


def test_export_refuses_paths_outside_the_bundle(bundle, tmp_path, capsys):
    b = _copy(bundle, tmp_path)
    (tmp_path / "secret.txt").write_text("x", encoding="utf-8")
    m = _manifest(b)
    m["files"].append({"path": "../secret.txt", "sha256": hashlib.sha256(b"x").hexdigest(), "bytes": 1})
    (b / "manifest.json").write_text(json.dumps(m, ensure_ascii=False), encoding="utf-8")
    assert run(["export", str(b), "--zip"]) == 2
    assert "outside the bundle" in capsys.readouterr().err


def test_export_needs_a_format_and_a_bundle(bundle, tmp_path, capsys):
    assert run(["export", str(bundle)]) == 2
    assert "--zip" in capsys.readouterr().err
    assert run(["export", str(tmp_path / "nope"), "--zip"]) == 2
    assert run(["export", str(bundle), "--zip", "-o", str(bundle / "inside.zip")]) == 2
    assert not (bundle / "inside.zip").exists()
