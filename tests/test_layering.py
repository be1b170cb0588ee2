"""The package's import graph: no cycle, no import up the layers of ``rgtopo._layers``, and a
reason beside every import made inside a function of a heavy or rgtopo module.

Static (``ast``): module-level and function-local imports alike, nothing is run."""

import ast
from pathlib import Path

import pytest

from conftest import REPO
from rgtopo._layers import LAYERS

SRC = REPO / "src"
HEAVY = ("tensorflow", "keras", "snakemake", "matplotlib")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted((SRC / "rgtopo").rglob("*.py"))}
LAYER = {name: i for i, (_, names) in enumerate(LAYERS) for name in names}


def imports(name: str):
    """(imported rgtopo module or None, top-level package, node, inside a function) per import."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text())
    functions = [fn for fn in ast.walk(tree)
                 if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef)]
    local = {id(node) for fn in functions for node in ast.walk(fn)
             if isinstance(node, ast.Import | ast.ImportFrom)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                target = alias.name if alias.name.split(".")[0] == "rgtopo" else None
                yield target, alias.name.split(".")[0], node, id(node) in local
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{base}.{node.module}" if node.module else base
            else:
                base = node.module or ""
            if base.split(".")[0] != "rgtopo":
                yield None, base.split(".")[0], node, id(node) in local
                continue
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                yield (sub if sub in MODULES else base), "rgtopo", node, id(node) in local


def graph() -> dict[str, set[str]]:
    return {name: {target for target, *_ in imports(name) if target} for name in MODULES}


def test_every_module_has_exactly_one_layer():
    listed = [name for _, names in LAYERS for name in names]
    assert sorted(listed) == sorted(set(listed)), "a module listed twice in rgtopo._layers"
    assert set(listed) == set(MODULES)


def test_no_import_runs_up_the_layers():
    up = [f"{name} ({LAYERS[LAYER[name]][0]}) imports {target} ({LAYERS[LAYER[target]][0]})"
          for name, targets in graph().items() for target in sorted(targets)
          if LAYER[target] > LAYER[name]]
    assert up == []


def test_the_import_graph_has_no_cycle():
    edges, state, cycles = graph(), {}, []

    def visit(name, trail):
        state[name] = "open"
        for target in sorted(edges[name]):
            if state.get(target) == "open":
                cycles.append(" -> ".join([*trail[trail.index(target):], target]))
            elif target not in state:
                visit(target, [*trail, target])
        state[name] = "done"

    for name in sorted(edges):
        if name not in state:
            visit(name, [name])
    assert cycles == []


@pytest.mark.parametrize("name", sorted(MODULES))
def test_imports_inside_functions_say_why(name):
    """Such an import of an rgtopo or a heavy module (it keeps TensorFlow out of ``import
    rgtopo`` and ``rgtopo chern``, say) carries a comment, on its line or the line above."""
    lines = MODULES[name].read_text().splitlines()
    bare = [f"{name}:{node.lineno}: {lines[node.lineno - 1].strip()}"
            for target, top, node, local in imports(name)
            if local and (target or top in HEAVY)
            and "#" not in lines[node.lineno - 1]
            and not lines[node.lineno - 2].strip().startswith("#")]
    assert bare == []
