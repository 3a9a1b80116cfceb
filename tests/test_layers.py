"""The package's layers point one way: every import of every module (at the top or inside a function),
read from the source with ``ast``, against the rules of the design (docs: /ARCHITECTURE's rule of thumb).

- ``ientrack.equivariance`` knows nothing of tracking: no models, trackers, data, eval, train or vis;
- ``ientrack.eval`` does not depend on training;
- ``ientrack.vis`` draws: it imports neither eval nor train (eval imports vis for ``--vis``, not back).
"""
import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "ientrack"

FORBIDDEN = {
    "equivariance": ["models", "trackers", "data", "eval", "train", "vis"],
    "eval": ["train"],
    "vis": ["eval", "train"],
}


def imported_modules(path: Path) -> set:
    """The absolute names of the modules ``path`` imports (relative imports resolved)."""
    module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    package = module.rsplit(".", 1)[0] if path.name != "__init__.py" else module.removesuffix(".__init__")
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            prefix = ".".join(base + ([node.module] if node.module else []))
            names.add(prefix)
            names |= {f"{prefix}.{alias.name}" for alias in node.names}
    return names


def violations(layer: str) -> list:
    banned = tuple(f"ientrack.{other}" for other in FORBIDDEN[layer])
    found = []
    for path in sorted((PACKAGE / layer).rglob("*.py")):
        for name in sorted(imported_modules(path)):
            if name.startswith(banned) and name.split(".")[1] in FORBIDDEN[layer]:
                found.append(f"{path.relative_to(PACKAGE.parent)} imports {name}")
    return found


@pytest.mark.parametrize("layer", ["equivariance", "vis", "eval"])
def test_each_layer_imports_only_what_lies_below_it(layer):
    assert violations(layer) == []


def test_the_reader_sees_relative_and_lazy_imports(tmp_path):
    """The rule checker itself: a relative import and one inside a function are both found."""
    source = PACKAGE / "equivariance" / "canonicalize.py"
    names = imported_modules(source)
    assert "ientrack.equivariance.groups" in names and "ientrack.equivariance._e2cnn_compat.import_e2cnn" in names
    runner = imported_modules(PACKAGE / "eval" / "experiment.py")
    assert "ientrack.vis.recorder.SequenceRecorder" in runner  # imported inside a function
