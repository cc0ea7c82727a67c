"""The import graph of mktcli, read from the source with `ast` (nothing is imported).

Run it to see the layers, the package-level and file-level graphs, the cycles and the function-local imports:

    python tests/import_graph.py            # summary
    python tests/import_graph.py --edges    # every module-level edge too

tests/test_architecture.py uses the same functions to hold the layer map in docs/architecture.md."""
from __future__ import annotations

import ast
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

PACKAGE = "mktcli"
ROOT = Path(__file__).resolve().parent.parent / PACKAGE

# The layer map (docs/architecture.md). A module may import its own layer or lower ones, never a higher one.
# Keys are module names or package prefixes; the longest matching prefix wins.
LAYERS: dict[str, int] = {
    # 1 contracts and config: data shapes, configs/ loaders, errors, small pure helpers
    "mktcli": 1,  # the lazy public-API __init__ (resolves names on first use, imports nothing at load)
    # (in the order they import each other: errors and paths at the bottom, then the YAML reader and the bounded
    # file read, the schema, the limits, the user-file and YAML front doors, the lists a brief is checked against,
    # and the brief)
    "mktcli.errors": 1,
    "mktcli.paths": 1,
    "mktcli.filecheck": 1,   # a user's file read without trusting it (the byte limit is the caller's)
    "mktcli.yamlread": 1,    # the YAML reader, limits as an argument (limits.py reads its own files with it)
    "mktcli.schema": 1,
    "mktcli.limits": 1,
    "mktcli.userfiles": 1,   # front door: the limits in force looked up
    "mktcli.yamlio": 1,      # front door: load_yaml within the limits in force
    "mktcli.plugins": 1,     # engine names (entry points and built-ins)
    "mktcli.catalog": 1,     # layout families, themes, vector objects by name (configs/, assets/)
    "mktcli.fontfiles": 1,   # the bundled fonts and their glyph coverage
    "mktcli.purposes": 1,    # FIN-PURPOSE's classes (the compliance files' purposes:)
    "mktcli.wording": 1,
    "mktcli.brief": 1,
    "mktcli.channels": 1,
    "mktcli.brand": 1,
    "mktcli.textsafe": 1,
    "mktcli.timings": 1,
    "mktcli.hub": 1,
    "mktcli.gpu": 1,
    # 2 engines: typesetting and composition, key visuals, copy, motion
    "mktcli.compose": 2,
    "mktcli.visual": 2,
    "mktcli.copywriting": 2,
    "mktcli.motion": 2,
    # 3 checks: compliance rules, figures, OCR read-back, video read-back
    "mktcli.checks": 3,
    # 4 the bundle: encode, layered files, placement, approval, zip, video, manifest and lock
    "mktcli.export": 4,
    # 5 the registry: SQLite store, migrations, audit sampling, review sheet, CSV
    "mktcli.registry": 5,
    # 6 learn: feedback, allocation, distillation, knowledge (reads the registry)
    "mktcli.learn": 6,
    # 7 orchestration: one brief (poster), many (batch), the preview server, quick, watch, doctor, starter
    "mktcli.poster": 7,
    "mktcli.brief_copy": 7,     # a brief's copy: engines + the rules' guard + the learned knowledge
    "mktcli.brief_check": 7,    # mkt check BRIEF (writes the brief's copy)
    "mktcli.bundle_check": 7,   # mkt check BUNDLE (reads the bundle's files, runs the checks)
    "mktcli.inputs": 7,    # content digests of a job's inputs (brief, copy engine, rules): the render cache key
    "mktcli.workers": 7,   # render worker processes of poster/batch
    "mktcli.batch": 7,
    "mktcli.preview": 7,
    "mktcli.quick": 7,
    "mktcli.watch": 7,
    "mktcli.doctor": 7,
    "mktcli.starter": 7,
    # 8 the command line
    "mktcli.cli": 8,
    "mktcli.__main__": 8,
}


# The package root resolves the public API lazily (importlib on first attribute use); its TYPE_CHECKING imports
# name the API's homes for type checkers and never run.
FACADE = "mktcli"

LAYER_NAMES = {1: "contracts", 2: "engines", 3: "checks", 4: "bundle", 5: "registry", 6: "learn",
               7: "orchestration", 8: "cli"}

# Heavy optional libraries: the only reason a function-local import is allowed (`mkt --help` stays light).
HEAVY = ("torch", "diffusers", "transformers", "onnxruntime", "rapidocr_onnxruntime", "matplotlib", "jieba", "av",
         "playwright", "peft", "accelerate", "safetensors", "torchao", "psd_tools", "resvg", "watchfiles",
         "fontTools", "numpy", "PIL", "sqlite3")   # sqlite3: `mkt --help` and cli modules stay without it

# The `mkt --help` path (the cli package, which imports each command's library inside the command) must also stay
# without the config stack: pydantic and yaml (every brief, channel and registry module loads them) and jinja2 (the
# HTML pages): a cli module importing mktcli.brief, userfiles or batch at the top would add 70–95 ms to a ~170 ms
# `mkt --help` (2 cores; benchmarks/startup.py), so a cli module may defer them too. Anywhere else they are
# ordinary imports; tests/test_architecture.py checks that `mkt --help` loads none of them.
HELP_PATH = ("mktcli.cli", "mktcli.__main__")
HELP_HEAVY = ("pydantic", "yaml", "jinja2")


@dataclass(frozen=True)
class Import:
    src: str          # importing module
    dst: str          # imported mktcli module (resolved to a file that exists)
    line: int
    local: bool       # inside a function body (runs on call, not on import)
    typing_only: bool  # under `if TYPE_CHECKING:` (never runs)


def modules(root: Path = ROOT) -> dict[str, Path]:
    """Every module of the package: dotted name → file."""
    out = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def layer_of(module: str) -> int:
    best = ""
    for key in LAYERS:
        if (module == key or module.startswith(key + ".")) and len(key) > len(best):
            best = key
    if not best:
        raise KeyError(f"{module} is on no layer: add it to LAYERS in tests/import_graph.py and docs/architecture.md")
    return LAYERS[best]


def _resolve(name: str, known: dict[str, Path]) -> str | None:
    """The longest existing module that `name` names (`mktcli.export.registry.open_db` → `mktcli.export.registry`)."""
    while name:
        if name in known:
            return name
        name = name.rpartition(".")[0]
    return None


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imports_of(module: str, path: Path, known: dict[str, Path]) -> tuple[list[Import], list[tuple[str, int, bool]]]:
    """(mktcli imports, all imports as (top-level name, line, local)) of one module."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_pkg = path.name == "__init__.py"
    base = module if is_pkg else module.rpartition(".")[0]
    found: list[Import] = []
    every: list[tuple[str, int, bool]] = []

    def visit(node: ast.AST, local: bool, typing_only: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                visit(child, True, typing_only)
            elif isinstance(child, ast.If) and _is_type_checking(child.test):
                for sub in child.body:
                    visit_stmt(sub, local, True)
                for sub in child.orelse:
                    visit_stmt(sub, local, typing_only)
            else:
                visit_stmt(child, local, typing_only)

    def visit_stmt(child: ast.AST, local: bool, typing_only: bool) -> None:
        if isinstance(child, ast.Import):
            for alias in child.names:
                every.append((alias.name.split(".")[0], child.lineno, local))
                if alias.name == PACKAGE or alias.name.startswith(PACKAGE + "."):
                    dst = _resolve(alias.name, known)
                    if dst:
                        found.append(Import(module, dst, child.lineno, local, typing_only))
        elif isinstance(child, ast.ImportFrom):
            if child.level:
                anchor = base
                for _ in range(child.level - 1):
                    anchor = anchor.rpartition(".")[0]
                target = f"{anchor}.{child.module}" if child.module else anchor
            else:
                target = child.module or ""
            every.append((target.split(".")[0], child.lineno, local))
            if target == PACKAGE or target.startswith(PACKAGE + "."):
                for alias in child.names:
                    dst = _resolve(f"{target}.{alias.name}", known) or _resolve(target, known)
                    if dst:
                        found.append(Import(module, dst, child.lineno, local, typing_only))
        elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            visit(child, True, typing_only)
        else:
            visit(child, local, typing_only)

    visit(tree, False, False)
    return found, every


def private_names(known: dict[str, Path] | None = None) -> list[tuple[str, str, str, int]]:
    """`from mktcli.x import _name` across modules: (importer, module, name, line)."""
    known = known or modules()
    out = []
    for module, path in known.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        is_pkg = path.name == "__init__.py"
        base = module if is_pkg else module.rpartition(".")[0]
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    anchor = base
                    for _ in range(node.level - 1):
                        anchor = anchor.rpartition(".")[0]
                    target = f"{anchor}.{node.module}" if node.module else anchor
                else:
                    target = node.module or ""
                if not target.startswith(PACKAGE):
                    continue
                for alias in node.names:
                    if alias.name.startswith("_") and not alias.name.startswith("__"):
                        out.append((module, target, alias.name, node.lineno))
    return out


def all_imports(known: dict[str, Path] | None = None) -> list[Import]:
    known = known or modules()
    out: list[Import] = []
    for module, path in known.items():
        out.extend(i for i in imports_of(module, path, known)[0] if i.dst != module)
    return out


def heavy_module_level(known: dict[str, Path] | None = None) -> list[tuple[str, str, int]]:
    known = known or modules()
    out = []
    for module, path in known.items():
        for top, line, local in imports_of(module, path, known)[1]:
            if not local and top in HEAVY:
                out.append((module, top, line))
    return out


def package_of(module: str) -> str:
    """The unit of the package-level graph: mktcli.export.registry → mktcli.export; mktcli.brief → mktcli.brief."""
    parts = module.split(".")
    return ".".join(parts[:2]) if len(parts) > 1 else module


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]
    nodes = set(edges) | {d for ds in edges.values() for d in ds}
    sys.setrecursionlimit(max(10000, sys.getrecursionlimit()))

    def strong(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(nodes):
        if v not in index:
            strong(v)
    return sorted(out)


def file_graph(imports: list[Import], *, include_local: bool = False) -> dict[str, set[str]]:
    """Module → modules it imports when it is loaded (module-level, not TYPE_CHECKING); with include_local also the
    imports inside functions."""
    g: dict[str, set[str]] = defaultdict(set)
    for i in imports:
        if i.typing_only or (i.local and not include_local):
            continue
        # A package's own __init__ importing its children is not a cycle of the children.
        if i.dst != PACKAGE:
            g[i.src].add(i.dst)
    return g


def package_graph(imports: list[Import]) -> dict[str, set[str]]:
    """Package → packages it imports anywhere (module-level or in a function), the review's package-level view."""
    g: dict[str, set[str]] = defaultdict(set)
    for i in imports:
        if i.typing_only or i.dst == PACKAGE:
            continue
        a, b = package_of(i.src), package_of(i.dst)
        if a != b:
            g[a].add(b)
    return g


def upward(imports: list[Import]) -> list[Import]:
    """Imports (at any level, TYPE_CHECKING included) from a lower layer into a higher one, one per statement."""
    seen, out = set(), []
    for i in imports:
        if (i.src == FACADE and i.typing_only) or i.dst == PACKAGE:
            continue
        if layer_of(i.dst) > layer_of(i.src) and (i.src, i.dst, i.line) not in seen:
            seen.add((i.src, i.dst, i.line))
            out.append(i)
    return out


def heavy_closure(known: dict[str, Path], imports: list[Import],
                  libs: tuple[str, ...] = HEAVY) -> dict[str, frozenset[str]]:
    """Module → the heavy libraries (of `libs`) that importing it loads (module-level imports, followed through
    mktcli)."""
    direct = {m: {top for top, _, local in imports_of(m, p, known)[1] if not local and top in libs}
              for m, p in known.items()}
    graph = file_graph(imports)
    out: dict[str, frozenset[str]] = {}
    for start in known:
        seen, todo, found = {start}, [start], set()
        while todo:
            m = todo.pop()
            found |= direct.get(m, set())
            for d in graph.get(m, ()):
                # importing mktcli.a.b runs mktcli/a/__init__.py first
                for parent in _parents(d):
                    if parent not in seen:
                        seen.add(parent)
                        todo.append(parent)
        out[start] = frozenset(found)
    return out


def _parents(module: str) -> list[str]:
    parts = module.split(".")
    return [".".join(parts[:n]) for n in range(2, len(parts) + 1)]


def on_help_path(module: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in HELP_PATH)


def unjustified_local(known: dict[str, Path], imports: list[Import]) -> list[Import]:
    """Function-local imports of mktcli modules that defer no heavy library (the target loads nothing heavy that the
    importer has not loaded already; on the `mkt --help` path HELP_HEAVY counts too): one per statement. These hide
    a cycle or are habit; they belong at the top."""
    heavy = heavy_closure(known, imports)
    help_heavy = heavy_closure(known, imports, HEAVY + HELP_HEAVY)
    seen, out = set(), []
    for i in imports:
        if not i.local or i.typing_only or (i.src, i.line) in seen:
            continue
        h = help_heavy if on_help_path(i.src) else heavy
        if not h[i.dst] - h[i.src]:
            seen.add((i.src, i.line))
            out.append(i)
    return out


def local_imports(imports: list[Import]) -> list[Import]:
    return [i for i in imports if i.local]


def main(argv: list[str]) -> int:
    known = modules()
    imps = all_imports(known)
    local = local_imports(imps)
    print(f"modules: {len(known)}   mktcli imports: {len(imps)}   function-local mktcli imports: {len(local)}")
    pkg_cycles = cycles(package_graph(imps))
    print(f"package-level cycles (any import): {len(pkg_cycles)}")
    for c in pkg_cycles:
        print("  ", " ".join(c))
    file_cycles = cycles(file_graph(imps))
    print(f"file-level cycles (module-level imports): {len(file_cycles)}")
    for c in file_cycles:
        print("  ", " ".join(c))
    all_cycles = cycles(file_graph(imps, include_local=True))
    print(f"file-level cycles counting function-local imports: {len(all_cycles)}"
          f" (largest {max((len(c) for c in all_cycles), default=0)} modules)")
    try:
        up = upward(imps)
        print(f"upward imports (lower layer → higher): {len(up)}")
        for i in up:
            print(f"   {i.src} (L{layer_of(i.src)}) → {i.dst} (L{layer_of(i.dst)}) line {i.line}"
                  f"{' local' if i.local else ''}")
    except KeyError as e:
        print("unmapped:", e)
    priv = private_names(known)
    cross = [p for p in priv if p[1] != p[0]]
    print(f"private names imported across modules: {len(cross)}")
    for src, mod, name, line in cross:
        print(f"   {src}:{line} from {mod} import {name}")
    unjust = unjustified_local(known, imps)
    print(f"function-local mktcli import statements: {len({(i.src, i.line) for i in local})}, "
          f"of which defer no heavy library: {len(unjust)}")
    by_src: dict[str, int] = defaultdict(int)
    for i in unjust:
        by_src[i.src] += 1
    print("function-local mktcli import statements that defer nothing heavy, by module:")
    for src, n in sorted(by_src.items(), key=lambda kv: -kv[1]):
        print(f"   {n:4d} {src}")
    if "--edges" in argv:
        for src, dsts in sorted(file_graph(imps).items()):
            print(src, "→", " ".join(sorted(dsts)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
