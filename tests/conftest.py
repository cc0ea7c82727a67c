from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "briefs"

GOOD = """\
version: 1
name: test-loan
product:
  name: 惠农e贷
  category: loan
  provider: 示例农村商业银行股份有限公司
offer:
  apr: "3.2%"
  perks: [首期利息8折, 最高可借30万]
audience:
  segments: [养殖户, 种植户]
message:
  headline: 补栏周转 不误农时
  disclaimer: 贷款额度、利率以实际审批结果为准
visual:
  seed: 7
channels: [app_banner, moments_16x9]
"""


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory, monkeypatch):
    """Never read the developer's ~/.mkt in tests."""
    monkeypatch.setenv("MKT_HOME", str(tmp_path_factory.mktemp("mkthome")))
    monkeypatch.delenv("MKT_DEBUG", raising=False)


@pytest.fixture
def write_brief(tmp_path):
    def _write(text: str = GOOD, name: str = "brief.yaml", raw: bytes | None = None) -> Path:
        p = tmp_path / name
        if raw is not None:
            p.write_bytes(raw)
        else:
            p.write_text(text, encoding="utf-8")
        return p

    return _write


def ctrl_c_reaches_child() -> None:
    """Popen(preexec_fn=…) for a test that presses Ctrl-C on a child: a test run started in the background of a
    script (`pytest &`, nohup) inherits SIGINT ignored, and Python then installs no KeyboardInterrupt handler in
    the child; restore the default so the child sees Ctrl-C as a terminal would deliver it."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)


def pytest_collection_modifyitems(items):
    """Tests on the tiny chat models trained for the run (the chat_models fixture, ~20 s once) are slow."""
    import pytest

    for item in items:
        if "chat_models" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)
