"""The layer map of docs/architecture.md, held: every module of mktcli is read with `ast` (imports at module level and
inside functions) and mapped to its layer (tests/import_graph.py).

Issue 20 left no debt: no upward import, no cycle (package, file, or hidden in a function-local import), no private
name taken across modules, no function-local import of an mktcli module that defers nothing heavy. A new one fails
here with the line to change."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from tests import import_graph as ig


@pytest.fixture(scope="module")
def graph():
    known = ig.modules()
    return known, ig.all_imports(known)


def test_every_module_is_on_a_layer(graph):
    known, _ = graph
    for module in known:
        assert ig.layer_of(module) in ig.LAYER_NAMES, module


def test_no_lower_layer_imports_a_higher_one(graph):
    _, imps = graph
    # a lower layer that needs something of a higher one gets it passed in (the copy writer's guard, the diffusion
    # engine's text reader) or the shared piece moves down (docs/architecture.md, "Where the debt went")
    new = {f"{i.src} (layer {ig.layer_of(i.src)}) imports {i.dst} (layer {ig.layer_of(i.dst)}) at line {i.line}"
           for i in ig.upward(imps)}
    assert not new, "move the shared piece down or pass it in:\n" + "\n".join(sorted(new))


def test_no_package_level_cycle(graph):
    """Packages (and the top-level modules) never import each other in a circle, through any import: the layers
    can be drawn."""
    _, imps = graph
    assert ig.cycles(ig.package_graph(imps)) == []


def test_no_file_level_cycle_among_module_level_imports(graph):
    _, imps = graph
    assert ig.cycles(ig.file_graph(imps)) == []


def test_no_cycle_hidden_in_a_function_local_import(graph):
    _, imps = graph
    assert ig.cycles(ig.file_graph(imps, include_local=True)) == []


def test_function_local_imports_of_mktcli_defer_something_heavy(graph):
    """Only to keep a heavy library (and, on the `mkt --help` path, pydantic, yaml, jinja2) unloaded until used;
    never to hide a cycle."""
    known, imps = graph
    lines = [f"{i.src}:{i.line} imports {i.dst} inside a function" for i in ig.unjustified_local(known, imps)]
    assert not lines, "import these at the top of the module (they load nothing heavy):\n" + "\n".join(lines)


def test_no_private_name_across_modules():
    found = {(a, b, name) for a, b, name, _ in ig.private_names() if a != b}
    assert not found, f"make these public in the right layer: {sorted(found)}"


def test_the_checks_catch_what_they_say(tmp_path):
    """On a made-up package: an upward import, a cycle and a lazy import that defers nothing are all found."""
    pkg = tmp_path / "mktcli"
    (pkg / "compose").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "compose" / "__init__.py").write_text("")
    (pkg / "errors.py").write_text("from .paths import x\n")
    (pkg / "paths.py").write_text("from .errors import y\n")                       # a file-level cycle
    (pkg / "brief.py").write_text(textwrap.dedent("""
        def f():
            from .compose import layout   # upward (contracts → engines), hidden in a function
            from .errors import y         # defers nothing heavy
    """))
    (pkg / "compose" / "layout.py").write_text("import numpy\nfrom ..brief import f\n")
    # pydantic may be deferred on the `mkt --help` path (the cli), nowhere else
    (pkg / "cli").mkdir()
    (pkg / "cli" / "__init__.py").write_text("")
    (pkg / "schema.py").write_text("import pydantic\n")
    (pkg / "cli" / "app.py").write_text("def cmd():\n    from ..schema import x\n")
    (pkg / "batch.py").write_text("def run():\n    from .schema import x\n")
    (pkg / "__init__.py").write_text("__version__ = '1'\n")
    (pkg / "inputs.py").write_text("def digest():\n    from . import __version__\n")   # the root: nothing deferred
    known = ig.modules(pkg)
    imps = ig.all_imports(known)
    assert [(i.src, i.dst) for i in ig.upward(imps)] == [("mktcli.brief", "mktcli.compose.layout")]
    assert ig.cycles(ig.file_graph(imps)) == [["mktcli.errors", "mktcli.paths"]]
    assert ["mktcli.brief", "mktcli.compose.layout"] in ig.cycles(ig.file_graph(imps, include_local=True))
    assert sorted((i.src, i.dst) for i in ig.unjustified_local(known, imps)) == [
        ("mktcli.batch", "mktcli.schema"), ("mktcli.brief", "mktcli.errors"), ("mktcli.inputs", "mktcli")]


def test_help_loads_no_heavy_library():
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "mktcli", "--help"], capture_output=True,
                          text=True, env=env, timeout=120)
    assert proc.returncode == 0
    imported = {line.rsplit("|", 1)[-1].strip().split(".")[0] for line in proc.stderr.splitlines() if "|" in line}
    for heavy in ("torch", "diffusers", "transformers", "onnxruntime", "numpy", "PIL", "sqlite3", *ig.HELP_HEAVY):
        assert heavy not in imported, f"`mkt --help` imports {heavy}"


def test_old_import_paths_forward_lazily_with_a_warning():
    """mktcli.export.registry / .preview (0.2.x only) load nothing from the layers above until an old script asks,
    and then say where the name lives now."""
    code = textwrap.dedent("""
        import sys, warnings
        import mktcli.export.registry as old_reg, mktcli.export.preview as old_prev
        assert "mktcli.registry.store" not in sys.modules and "mktcli.preview.server" not in sys.modules
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            from mktcli.export.registry import open_registry
            from mktcli.export.preview import make_server
        import mktcli.registry.store as new_reg, mktcli.preview.server as new_prev
        assert open_registry is new_reg.open_registry and make_server is new_prev.make_server
        assert [str(x.message).split(":")[0] for x in w] == ["mktcli.export.registry is deprecated",
                                                               "mktcli.export.preview is deprecated"]
        assert "Registry" in old_reg.__all__ and "Gallery" in old_prev.__all__
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
