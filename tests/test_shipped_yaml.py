"""mkt's own YAML files load through libyaml (fast) and give exactly what the full, line-tracking parser gives."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from mktcli import yamlio, yamlread
from mktcli.limits import limits
from mktcli.paths import data_root

SHIPPED = sorted(p for d in ("configs", "assets") for p in (data_root() / d).rglob("*.yaml"))


def test_there_are_shipped_files_and_libyaml():
    assert len(SHIPPED) > 10 and yaml.__with_libyaml__


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(data_root())))
def test_fast_path_gives_the_full_parsers_data(path: Path):
    fast = yamlio.load_yaml(path)
    assert isinstance(fast, yamlread._ShippedYaml)
    full = yamlread.parse_yaml(path.read_text(encoding="utf-8-sig"), path, limits=limits())
    assert fast.data == full.data
    assert fast.sha256 and not fast.lines          # lines are worked out only when asked for …
    if isinstance(full.data, dict) and full.data:
        key = next(iter(full.data))
        assert fast.line_of((key,)) == full.line_of((key,))   # … and then they are the full parser's


def test_a_users_file_still_takes_the_full_parser(tmp_path):
    p = tmp_path / "brief.yaml"
    p.write_text("a: 1\nwhen: 2026-12-01\n", encoding="utf-8")
    loaded = yamlio.load_yaml(p)
    assert not isinstance(loaded, yamlread._ShippedYaml) and loaded.lines[("when",)] == 2
    assert loaded.data["when"] == "2026-12-01"    # no implicit dates, on either path
    assert yaml.load("when: 2026-12-01", Loader=yamlread._FastLoader)["when"] == "2026-12-01"
