"""The package's layers import one way only, with no cycle and no private name taken from another layer."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "jaxshift"

# lowest first; a module may import from its own layer or a lower one
LAYERS = [
    ("kernels", ["jaxshift.kernels"]),
    ("reduce", ["jaxshift.reduce"]),
    ("solvers", ["jaxshift.solvers"]),
    ("density", ["jaxshift.density"]),
    ("api", ["jaxshift.api", "jaxshift"]),
    (
        "applications",
        [
            "jaxshift.sklearn",
            "jaxshift.cli",
            "jaxshift.io",
            "jaxshift.plot",
            "jaxshift.demo",
            "jaxshift.image",
            "jaxshift.cli_image",
        ],
    ),
]


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> int:
    if module == "jaxshift.__main__":
        return len(LAYERS) - 1
    best = None
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if module == prefix or (prefix != "jaxshift" and module.startswith(prefix + ".")):
                best = index
    if best is None:
        raise AssertionError(f"{module} is in no layer; add it to LAYERS and docs/architecture.md")
    return best


def imports(path: Path):
    """(imported module, imported names) for every import of jaxshift in the file, nested ones included."""
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("jaxshift"):
                    yield alias.name, []
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("jaxshift"):
            names = [alias.name for alias in node.names]
            submodules = [
                f"{node.module}.{n}"
                for n in names
                if (PACKAGE.parent / f"{node.module}.{n}".replace(".", "/")).exists()
                or (PACKAGE.parent / (f"{node.module}.{n}".replace(".", "/") + ".py")).exists()
            ]
            if submodules:
                yield node.module, []  # the package's __init__ runs first: an import of it too
                for sub in submodules:
                    yield sub, []
            else:
                yield node.module, names


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_go_down_the_layers_only(module):
    own = layer_of(module)
    for target, _ in imports(MODULES[module]):
        assert layer_of(target) <= own, (
            f"{module} ({LAYERS[own][0]}) imports {target} ({LAYERS[layer_of(target)][0]}), a higher layer"
        )


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_private_name_crosses_a_layer(module):
    own = layer_of(module)
    for target, names in imports(MODULES[module]):
        private = [n for n in names if n.startswith("_")]
        assert not private or layer_of(target) == own, f"{module} imports private {private} from {target}"
        assert not any(part.startswith("_") for part in target.split(".")[1:]) or target == "jaxshift.__main__"


def test_no_import_cycle():
    graph = {m: {t for t, _ in imports(p) if t in MODULES and t != m} for m, p in MODULES.items()}
    graph["jaxshift"] = set()  # the package's __init__ re-exports; submodules never import it back
    seen, on_path = set(), []

    def visit(node):
        if node in on_path:
            cycle = on_path[on_path.index(node) :] + [node]
            raise AssertionError("import cycle: " + " -> ".join(cycle))
        if node in seen:
            return
        on_path.append(node)
        for nxt in graph[node]:
            visit(nxt)
        on_path.pop()
        seen.add(node)

    for module in graph:
        visit(module)


def test_the_layer_check_catches_an_upward_import(tmp_path):
    # the rule itself: a solver importing the public API would be flagged
    assert layer_of("jaxshift.solvers.mean_shift") < layer_of("jaxshift.api.clustering")
    assert layer_of("jaxshift.kernels") < layer_of("jaxshift.reduce.blockwise") < layer_of("jaxshift.density.kde")
