"""What a brief is checked against when it is loaded (layer 1: catalog, purposes, plugins, fontfiles) is what the
engines and the rule set read from the same files."""
from __future__ import annotations

from mktcli import catalog, plugins
from mktcli.checks.rules import load_rules
from mktcli.compose import fonts
from mktcli.compose.layout import family_names
from mktcli.copywriting import base as copy_base
from mktcli.purposes import purposes
from mktcli.visual import base as visual_base
from mktcli.visual import illustration, vector


def test_the_catalog_names_what_the_engines_read():
    assert catalog.layout_families() == family_names() and "hero" in catalog.layout_families()
    assert catalog.themes() == illustration.themes() and "春节" in catalog.themes()
    assert catalog.object_names() == list(vector.objects()) and "tractor" in catalog.object_names()


def test_purposes_are_the_rule_sets():
    assert purposes() == load_rules().purposes and purposes().classes


def test_engine_lists_and_fonts_are_the_engines():
    assert visual_base.available() == plugins.visual_engines() and "procedural" in plugins.visual_engines()
    assert copy_base.available() == plugins.copy_engines() and "template" in plugins.copy_engines()
    assert fonts.registry() and all(fonts.coverage(fid) for fid in fonts.registry())
