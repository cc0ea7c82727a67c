"""`mkt preview`: the gallery's data and page (escaping, grouping, incomplete bundles), the server's file rules
(only listed files inside OUT, traversal refused before any normalisation), the CLI, and a real headless Chromium
over a rendered bundle (every creative shown, every image decoded, filters, no script injection)."""
from __future__ import annotations

import hashlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from PIL import Image

from mktcli.cli.app import run
from mktcli.errors import BriefError
from mktcli.preview.gallery import gallery_data, load_gallery, mockup_kind
from mktcli.preview.server import make_server, safe_rel
from mktcli.preview.page import gallery_html
from tests.conftest import ctrl_c_reaches_child

XSS = "<script>alert(1)</script>"
SEGMENT_XSS = '"><img src=x onerror=alert(2)>'


# ---------------------------------------------------------------------------------------------------- helpers


def _entry(root: Path, rel: str, data: bytes) -> dict:
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)
    return {"path": rel, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}


def _png(w: int, h: int, colour=(200, 40, 40)) -> bytes:
    import io

    buf = io.BytesIO()
    Image.new("RGB", (w, h), colour).save(buf, "PNG")
    return buf.getvalue()


def fake_bundle(folder: Path, name: str, headline: str = "补栏周转 不误农时", segment: str = "养殖户") -> dict:
    """A small bundle as make_posters lays it out (a banner, a feed image, an SMS), without rendering."""
    banner = _entry(folder, f"{segment}/app_banner.png", _png(620, 145))
    feed = _entry(folder, f"{segment}/moments_16x9.png", _png(400, 225, (40, 120, 60)))
    sms = _entry(folder, f"{segment}/sms.txt", "【示例银行】年化利率3.2%起。拒收请回复R\n".encode())
    checks = [{"rule": "FIN-APR", "severity": "error", "passed": True, "message": ""}]
    creatives = [
        {**banner, "id": f"c-{name}-1", "segment": segment, "channel": "app_banner", "width": 620, "height": 145,
         "format": "png", "texts": {"headline": headline, "apr": "年化利率3.2%起"}, "checks": checks},
        {**feed, "id": f"c-{name}-2", "segment": segment, "channel": "moments_16x9", "width": 400, "height": 225,
         "format": "png", "texts": {"headline": headline}, "checks": checks},
        {**sms, "id": f"c-{name}-3", "segment": segment, "channel": "sms", "format": "text",
         "texts": {"body": "【示例银行】年化利率3.2%起。拒收请回复R"}, "checks": checks},
    ]
    manifest = {"version": 1, "brief": {"name": name}, "created": "2026-11-26T10:00:00+08:00",
                "creatives": creatives, "failures": [], "files": [banner, feed, sms],
                "approval": {"ready": [c["id"] for c in creatives], "blocked": []}}
    (folder / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    return manifest


@pytest.fixture
def served(tmp_path):
    """A running server over OUT holding one fake bundle; yields (server, OUT)."""
    out = tmp_path / "out"
    fake_bundle(out / "loan", "loan")
    server = make_server(out, 0)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server, out
    server.shutdown()
    server.server_close()


def raw_get(server, target: str, host: str = "127.0.0.1") -> tuple[int, dict[str, str], bytes]:
    """GET exactly `target` over a plain socket: no client library normalises '..' or re-encodes anything."""
    port = server.server_address[1]
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(f"GET {target} HTTP/1.0\r\nHost: {host}:{port}\r\n\r\n".encode("latin-1"))
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


# ---------------------------------------------------------------------------------------------------- data + page


def test_page_escapes_every_text(tmp_path):
    out = tmp_path / "out"
    fake_bundle(out / "xss", "xss", headline=XSS, segment="seg")
    m = json.loads((out / "xss" / "manifest.json").read_text(encoding="utf-8"))
    m["creatives"][0]["segment"] = SEGMENT_XSS
    m["creatives"][0]["checks"] = [{"rule": "AD-ABS", "severity": "error", "passed": False,
                                    "message": "</script><b>", "fix": "<i>fix</i>"}]
    (out / "xss" / "manifest.json").write_text(json.dumps(m), encoding="utf-8")
    html = gallery_html(load_gallery(out), lambda rel: rel)
    assert XSS not in html and SEGMENT_XSS not in html and "<b>" not in html and "<i>fix" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&quot;&gt;&lt;img src=x onerror=alert(2)&gt;" in html
    assert html.count("<script>") == 1 and html.count("</script>") == 1   # ours, at the end
    assert 'http-equiv="Content-Security-Policy"' not in html            # served: the policy is a header


def test_static_page_carries_its_policy_and_relative_links(tmp_path):
    out = tmp_path / "out"
    fake_bundle(out / "loan", "loan")
    target = tmp_path / "site" / "gallery.html"
    target.parent.mkdir()   # --html writes into an existing folder (a typo must not create folders)
    assert run(["preview", str(out), "--html", str(target)]) == 0
    html = target.read_text(encoding="utf-8")
    assert 'http-equiv="Content-Security-Policy"' in html and "script-src &#x27;sha256-" in html
    assert 'src="../out/loan/%E5%85%BB%E6%AE%96%E6%88%B7/app_banner.png"' in html
    assert (target.parent / "../out/loan/养殖户/app_banner.png").is_file()
    assert not list(target.parent.glob(".*.tmp"))   # written through a temp file, renamed into place


def test_many_bundles_nested_hidden_and_incomplete(tmp_path):
    out = tmp_path / "out"
    fake_bundle(out / "a", "brief-a")
    fake_bundle(out / "group" / "b", "brief-b")            # one level deeper (a batch with groups)
    (out / "group" / "half").mkdir()                       # a bundle still rendering, beside b
    (out / "c" / "养殖户").mkdir(parents=True)              # interrupted: segment folders, no manifest
    fake_bundle(out / ".mkt" / "cache", "hidden")          # the batch's own state: never shown
    (out / "d").mkdir()
    (out / "d" / "manifest.json").write_text("{not json", encoding="utf-8")
    data = gallery_data(load_gallery(out))
    shown = {b["folder"]: b for b in data["bundles"]}
    assert set(shown) == {"a", "group/b", "group/half", "c", "d"}
    assert shown["a"]["complete"] and shown["group/b"]["complete"]
    assert "incomplete bundle" in shown["c"]["problem"] and "incomplete bundle" in shown["group/half"]["problem"]
    assert "not valid JSON" in shown["d"]["problem"]
    assert data["counts"] == {"bundles": 2, "incomplete": 3, "creatives": 6, "ready": 6, "blocked": 0}
    urls = [c["url"] for b in data["bundles"] for c in b["creatives"]]
    assert "/files/group/b/%E5%85%BB%E6%AE%96%E6%88%B7/sms.txt" in urls
    html = gallery_html(load_gallery(out), lambda rel: rel)
    assert html.count('class="card creative') == 6 and html.count('<p class="missing">') == 3


def test_one_bundle_given_directly_and_its_manifest(tmp_path):
    fake_bundle(tmp_path / "loan", "loan")
    for given in (tmp_path / "loan", tmp_path / "loan" / "manifest.json"):
        (bundle,) = gallery_data(load_gallery(given))["bundles"]
        assert bundle["folder"] == "."
        assert bundle["creatives"][0]["url"] == "/files/%E5%85%BB%E6%AE%96%E6%88%B7/app_banner.png"


def test_mockup_kinds():
    assert mockup_kind({"width": 1242, "height": 290}) == "banner"
    assert mockup_kind({"width": 1080, "height": 1920}) == "splash"
    assert mockup_kind({"width": 800, "height": 450}) == "feed"
    assert mockup_kind({"format": "text", "channel": "push"}) == "push"
    assert mockup_kind({"format": "text", "channel": "call_script"}) == "call"


# ---------------------------------------------------------------------------------------------------- server


def test_listed_file_is_sent_with_its_bytes_and_headers(served):
    server, out = served
    status, headers, body = raw_get(server, "/files/loan/%E5%85%BB%E6%AE%96%E6%88%B7/app_banner.png")
    assert status == 200 and body == (out / "loan" / "养殖户" / "app_banner.png").read_bytes()
    assert headers["content-type"] == "image/png" and headers["x-content-type-options"] == "nosniff"
    assert "default-src 'none'" in headers["content-security-policy"]
    status, headers, body = raw_get(server, "/files/loan/%E5%85%BB%E6%AE%96%E6%88%B7/sms.txt")
    assert status == 200 and headers["content-type"] == "text/plain; charset=utf-8" and "拒收请回复R" in body.decode()


def test_page_headers(served):
    server, _ = served
    status, headers, body = raw_get(server, "/")
    assert status == 200 and headers["content-type"] == "text/html; charset=utf-8"
    csp = headers["content-security-policy"]
    assert "default-src 'none'" in csp and "connect-src 'none'" in csp and "script-src 'sha256-" in csp
    assert "unsafe-inline" not in csp.split("style-src")[0] and headers["x-content-type-options"] == "nosniff"
    assert b'data-channel="app_banner"' in body


@pytest.mark.parametrize("target", [
    "/../../etc/passwd", "/files/../../etc/passwd", "/files/loan/../../secret.txt", "/files/%2e%2e/secret.txt",
    "/files/%2E%2E%2Fsecret.txt", "/files/loan/%2e%2e/%2e%2e/secret.txt", "/files//etc/passwd",
    "/files/%2Fetc%2Fpasswd", "/files/loan\\..\\..\\secret.txt", "/files/loan%5C..%5C..%5Csecret.txt",
    "/etc/passwd", "/secret.txt", "/files/", "/files/%ff", "/files/loan/%00", "/files/./loan/manifest.json",
])
def test_traversal_is_refused(served, target):
    server, out = served
    (out.parent / "secret.txt").write_text("TOP SECRET", encoding="utf-8")
    status, _, body = raw_get(server, target)
    assert status == 404 and b"SECRET" not in body and b"root:" not in body


def test_unlisted_files_inside_out_are_refused(served):
    server, out = served
    (out / "loan" / "notes.txt").write_text("private", encoding="utf-8")
    for target in ("/files/loan/notes.txt", "/files/loan/manifest.json", "/loan/manifest.json"):
        assert raw_get(server, target)[0] == 404


def test_listed_symlink_out_of_out_is_refused(tmp_path):
    out = tmp_path / "out"
    m = fake_bundle(out / "loan", "loan")
    secret = tmp_path / "secret.png"
    secret.write_bytes(b"SECRET")
    banner = out / "loan" / m["files"][0]["path"]
    banner.unlink()
    banner.symlink_to(secret)   # the manifest still lists it: the server must not follow it out of OUT
    server = make_server(out, 0)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        status, _, body = raw_get(server, "/files/loan/%E5%85%BB%E6%AE%96%E6%88%B7/app_banner.png")
        assert status == 404 and b"SECRET" not in body
    finally:
        server.shutdown()
        server.server_close()


def test_other_host_names_are_refused(served):
    server, _ = served   # a DNS-rebinding page reaches 127.0.0.1 under its own name
    assert raw_get(server, "/", host="evil.example")[0] == 403
    assert raw_get(server, "/", host="localhost")[0] == 200


def test_reload_shows_bundles_finished_since(served):
    import time

    server, out = served
    assert b"brief-late" not in raw_get(server, "/")[2]
    fake_bundle(out / "late", "brief-late")
    time.sleep(server.rescan_seconds)   # OUT is looked at again for an unlisted file at most this often
    assert raw_get(server, "/files/late/%E5%85%BB%E6%AE%96%E6%88%B7/sms.txt")[0] == 200   # no page load needed
    assert b"brief-late" in raw_get(server, "/")[2]


def test_unlisted_requests_do_not_read_the_manifests_again(served, monkeypatch):
    """Any web page can send requests to 127.0.0.1: a burst of unlisted paths must not parse every manifest each."""
    import mktcli.preview.gallery as preview

    server, out = served
    for i in range(5):
        fake_bundle(out / f"b{i}", f"b{i}")
    server.refresh()
    reads = []
    real = preview.load_manifest
    monkeypatch.setattr(preview, "load_manifest", lambda folder: reads.append(folder) or real(folder))
    server._scanned = 0.0   # as if the last look at OUT were long ago: one rescan, then none for rescan_seconds
    for i in range(100):
        assert raw_get(server, f"/files/nothing-{i}.png")[0] == 404
    assert reads == []   # the rescan found every bundle unchanged (same stat): no manifest parsed again
    fake_bundle(out / "new", "new")
    server._scanned = 0.0
    for i in range(50):
        raw_get(server, f"/files/nothing-{i}.png")
    assert len(reads) == 1   # the new bundle, once


def test_bundle_whose_files_changed_is_not_served(served):
    server, out = served
    rel = "/files/loan/%E5%85%BB%E6%AE%96%E6%88%B7/sms.txt"
    assert raw_get(server, rel)[0] == 200
    (out / "loan" / "养殖户" / "sms.txt").write_bytes("【示例银行】全网最低。拒收请回复R\n".encode())   # edited after
    assert raw_get(server, rel)[0] == 404
    page = raw_get(server, "/")[2].decode("utf-8")
    assert "do not match" in page and ("sha256 differs" in page or "bytes, manifest says" in page)
    with pytest.raises(BriefError, match="do not match"):
        load_gallery(out / "loan", require_bundle=True)


def test_idle_connections_are_closed(served):
    import time

    server, _ = served
    server.idle_timeout = 0.5
    port = server.server_address[1]
    t0 = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:   # connects, then sends nothing
        s.sendall(b"GET / HT")                                              # … or half a request line
        assert s.recv(1024) == b""                                          # the server hangs up
    assert time.monotonic() - t0 < 5
    assert raw_get(server, "/")[0] == 200


def test_connections_beyond_the_limit_are_closed_at_once(served):
    import time

    server, _ = served
    server.idle_timeout = 3
    server._slots = threading.BoundedSemaphore(2)
    port = server.server_address[1]
    idle = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(2)]
    time.sleep(0.3)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            t0 = time.monotonic()
            s.sendall(b"GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            assert s.recv(1024) == b"" and time.monotonic() - t0 < 2   # refused, not queued behind the idle ones
    finally:
        for s in idle:
            s.close()


def test_safe_rel():
    assert safe_rel("/files/a/%E5%85%BB.png") == "a/养.png"
    assert safe_rel("/files/a/../b") is None and safe_rel("/files/a%2f..%2fb") is None and safe_rel("/x") is None


def test_registry_status_shown_read_only(tmp_path, monkeypatch):
    from mktcli.registry.store import open_registry, registry_path

    out = tmp_path / "out"
    fake_bundle(out / "loan", "loan")
    assert load_gallery(out).registry == {} and not registry_path().exists()   # never created by a preview
    db = tmp_path / "reg.db"
    with open_registry(db) as reg:
        reg.register_manifest(out / "loan")
        reg.set_status(["c-loan-1"], "approved")
    g = load_gallery(out, registry=db)
    assert g.registry == {"c-loan-1": "approved", "c-loan-2": "draft", "c-loan-3": "draft"}
    assert 'data-registry="approved"' in gallery_html(g, lambda rel: rel)
    (tmp_path / "broken.db").write_bytes(b"not a database" * 100)
    assert load_gallery(out, registry=tmp_path / "broken.db").registry == {}   # a broken registry is ignored


# ---------------------------------------------------------------------------------------------------- CLI


def test_missing_out_is_bad_input(tmp_path, capsys):
    assert run(["preview", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err
    assert "does not exist" in err and "Traceback" not in err


def test_port_in_use_says_port_0(tmp_path, capsys):
    fake_bundle(tmp_path / "loan", "loan")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        with pytest.raises(BriefError, match="in use"):
            make_server(tmp_path, port)
        assert run(["preview", str(tmp_path), "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert "--port 0" in err and "Traceback" not in err


def test_html_json(tmp_path, capsys):
    fake_bundle(tmp_path / "out" / "loan", "loan")
    assert run(["preview", str(tmp_path / "out"), "--html", str(tmp_path / "g.html"), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] and data["html"] == str(tmp_path / "g.html") and data["counts"]["creatives"] == 3
    assert data["bundles"][0]["creatives"][0]["url"] == "out/loan/%E5%85%BB%E6%AE%96%E6%88%B7/app_banner.png"


def test_serve_prints_url_then_ctrl_c_exits_0(tmp_path):
    fake_bundle(tmp_path / "loan", "loan")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "mktcli", "preview", str(tmp_path), "--port", "0", "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            preexec_fn=ctrl_c_reaches_child)
    try:
        data = json.loads(proc.stdout.readline())
        url = data["url"]
        assert url.startswith("http://127.0.0.1:") and data["counts"]["creatives"] == 3
        file_url = data["bundles"][0]["creatives"][0]["url"]
        conn = http.client.HTTPConnection("127.0.0.1", int(url.rsplit(":", 1)[1].strip("/")), timeout=5)
        conn.request("GET", file_url)
        assert conn.getresponse().status == 200
        conn.close()
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert "Traceback" not in err


# ---------------------------------------------------------------------------------------------------- browser

BROWSER_BRIEF = """\
version: 1
name: preview-test
product:
  name: 惠农e贷
  category: loan
  provider: 示例农村商业银行股份有限公司
offer:
  apr: "3.2%"
  perks: [首期利息8折]
audience:
  segments: [养殖户, 种植户]
message:
  headline: "<script>__pwned=1</script>"
  disclaimer: 贷款额度、利率以实际审批结果为准
visual:
  engine: procedural
  seed: 7
channels: [app_banner, sms]
"""


def _chromium() -> str:
    """Debian's chromium (playwright's own download is never used). Missing: a skip, or a failure where CI says
    the browser is required (MKT_REQUIRE_BROWSER=1, set by .ci/run)."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path:
        return path
    if os.environ.get("MKT_REQUIRE_BROWSER", "") not in ("", "0"):
        pytest.fail("MKT_REQUIRE_BROWSER is set but no chromium is on PATH (apt-get install chromium)")
    pytest.skip("no chromium on PATH (set MKT_REQUIRE_BROWSER=1 to make this a failure)")


def test_gallery_in_headless_chromium(tmp_path):
    """A real rendered bundle in a real browser: every creative shown, every image decoded, the headline's
    <script> shown as text and never run, and the filters hide and show the right cards."""
    browser_path = _chromium()
    from playwright.sync_api import sync_playwright   # the test extra installs it: missing is a failure

    from mktcli.registry.store import open_registry
    from mktcli.poster import make_posters

    brief = tmp_path / "brief.yaml"
    brief.write_text(BROWSER_BRIEF, encoding="utf-8")
    out = tmp_path / "out"
    result = make_posters(brief, out, register=False, layered=False)
    db = tmp_path / "registry.db"
    with open_registry(db) as reg:
        reg.register_manifest(result.manifest_path)
    # one poster blocked by a failed error-level check, as make_posters records it
    mpath = Path(result.manifest_path)
    m = json.loads(mpath.read_text(encoding="utf-8"))
    bad = next(c for c in m["creatives"] if c["format"] != "text")
    bad["checks"].append({"rule": "FIN-APR", "severity": "error", "passed": False, "message": "APR unreadable"})
    m["approval"] = {"ready": [c["id"] for c in m["creatives"] if c is not bad], "blocked": [bad["id"]]}
    mpath.write_text(json.dumps(m, ensure_ascii=False), encoding="utf-8")
    with open_registry(db) as reg:
        approved = next(c["id"] for c in m["creatives"] if c is not bad and c["format"] != "text")
        reg.set_status([approved], "approved")
    ids = {c["id"] for c in m["creatives"]}
    assert len(ids) == 4

    server = make_server(out, 0, registry=db)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=browser_path, args=["--no-sandbox"])
            page = browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
            page.goto(server.url)
            page.wait_for_load_state("load")

            cards = page.locator("article.creative")
            assert {cards.nth(i).get_attribute("id") for i in range(cards.count())} == ids
            images = page.evaluate("Array.from(document.images).map(i => [i.complete, i.naturalWidth])")
            assert len(images) == 2 * 2 and all(ok and w > 0 for ok, w in images), images   # phone + true size
            true_sizes = page.evaluate("Array.from(document.querySelectorAll('.truesize img'))"
                                       ".map(i => [i.naturalWidth, i.getBoundingClientRect().width])")
            assert all(n == 1242 and abs(w - 1242) < 1 for n, w in true_sizes)   # natural pixels, not scaled
            assert page.evaluate("typeof window.__pwned") == "undefined"
            assert "<script>__pwned=1</script>" in page.inner_text(f'article[id="{approved}"]')
            assert page.locator(f'article[id="{bad["id"]}"] ul.checks li.fail').inner_text().startswith("FIN-APR")
            assert page.locator(".bubble").count() == 2   # the SMS of each segment as a message

            def visible() -> set[str]:
                return set(page.evaluate("Array.from(document.querySelectorAll('article.creative'))"
                                         ".filter(a => a.offsetParent !== null).map(a => a.id)"))

            page.select_option('select[data-filter="status"]', "blocked")
            assert visible() == {bad["id"]} and page.inner_text("#shown") == "1"
            page.select_option('select[data-filter="status"]', "reg:approved")
            assert visible() == {approved}
            page.select_option('select[data-filter="status"]', "")
            page.select_option('select[data-filter="channel"]', "sms")
            sms = {c["id"] for c in m["creatives"] if c["channel"] == "sms"}
            assert visible() == sms
            page.select_option('select[data-filter="segment"]', "种植户")
            assert visible() == {c["id"] for c in m["creatives"] if c["channel"] == "sms" and c["segment"] == "种植户"}
            assert page.locator('section.segment[data-segment="养殖户"]').is_hidden()
            page.reload()   # the filter choice survives a reload (kept in the #fragment)
            page.wait_for_load_state("load")
            assert len(visible()) == 1
            assert not errors, errors
            browser.close()
    finally:
        server.shutdown()
        server.server_close()


def test_nothing_to_show_and_a_missing_html_folder_are_clear_errors(tmp_path, capsys):
    from mktcli.cli.app import run

    (tmp_path / "not-bundles" / "a").mkdir(parents=True)
    assert run(["preview", str(tmp_path / "not-bundles"), "--html", str(tmp_path / "p.html")]) == 2
    assert "no bundles" in capsys.readouterr().err
    assert not (tmp_path / "p.html").exists()
    assert run(["preview", str(tmp_path / "not-bundles"), "--port", "0"]) == 2
    assert run(["preview", str(tmp_path / "not-bundles"), "--html", str(tmp_path / "nope" / "dir" / "p.html")]) == 2
    assert not (tmp_path / "nope").exists()
