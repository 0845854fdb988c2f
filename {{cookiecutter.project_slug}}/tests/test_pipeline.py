"""dvc.yaml cannot drift from the code: each stage depends on every module it imports and
declares every params.yaml key its entry point reads, so a code or params change reruns it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml

PROJECT = Path(__file__).resolve().parents[1]
PACKAGE = "{{ cookiecutter.package_name }}"
SOURCE = PROJECT / "src" / PACKAGE
STAGES = yaml.safe_load((PROJECT / "dvc.yaml").read_text(encoding="utf-8"))["stages"]
# Params attributes whose params.yaml key differs (pydantic would shadow a method name).
ALIASES = {"validation": "validate", "registration": "register"}


def _type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _imports(module: Path) -> set[Path]:
    """The package's modules that `module` imports (at any depth, not under TYPE_CHECKING)."""
    here = list(module.relative_to(SOURCE).parent.parts)
    found: set[Path] = set()
    pending: list[ast.AST] = [ast.parse(module.read_text(encoding="utf-8"))]
    while pending:
        node = pending.pop()
        if _type_checking(node):
            continue
        pending.extend(ast.iter_child_nodes(node))
        if not (isinstance(node, ast.ImportFrom) and node.level):
            continue
        base = here[: len(here) - node.level + 1] + (node.module or "").split(".")
        for alias in node.names:
            for parts in ([*base, alias.name], base):
                path = SOURCE.joinpath(*filter(None, parts))
                if path.with_suffix(".py").is_file():
                    found.add(path.with_suffix(".py"))
                    break
                if (path / "__init__.py").is_file():
                    found.add(path / "__init__.py")
                    break
    return found


def _closure(module: Path) -> set[Path]:
    seen: set[Path] = set()
    pending = [module]
    while pending:
        current = pending.pop()
        if current not in seen:
            seen.add(current)
            pending.extend(_imports(current))
    return seen


def _stage_module(stage: dict) -> Path:
    command = stage["cmd"].split()
    name = command[command.index("-m") + 1].removeprefix(f"{PACKAGE}.")
    return SOURCE / f"{name.replace('.', '/')}.py"


def _covered(path: Path, deps: list[Path]) -> bool:
    return any(path == dep or dep in path.parents for dep in deps)


@pytest.mark.parametrize("name", list(STAGES))
def test_each_stage_depends_on_every_module_it_imports(name):
    stage = STAGES[name]
    deps = [PROJECT / dep for dep in stage["deps"]]
    modules = _closure(_stage_module(stage))
    missing = sorted(
        str(path.relative_to(PROJECT))
        for path in modules
        if path.name != "__init__.py" and not _covered(path, deps)
    )
    assert not missing, f"dvc.yaml: stage {name!r} imports modules it does not depend on"


def _params_read(module: Path) -> set[str]:
    """params.yaml keys the stage's module reads: `params.a.b` chains of `load_params()`."""
    tree = ast.parse(module.read_text(encoding="utf-8"))
    keys, whole = set(), []
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Name) and node.id == "params"):
            continue
        chain, current = [], node
        while isinstance(parents.get(current), ast.Attribute):
            current = parents[current]
            chain.append(current.attr)
        if isinstance(parents.get(current), ast.Call) and parents[current].func is current:
            chain = chain[:-1]  # a method call such as enabled()
        if not chain and not isinstance(parents.get(node), ast.Assign):
            whole.append(node.lineno)
        keys.add(".".join(ALIASES.get(part, part) for part in chain))
    assert not whole, f"{module.name}: pass the sub-config a core needs, not all params"
    return {key for key in keys if key}


@pytest.mark.parametrize("name", list(STAGES))
def test_each_stage_declares_every_params_key_it_reads(name):
    stage = STAGES[name]
    declared = [str(key) for key in stage.get("params", [])]
    read = _params_read(_stage_module(stage))
    undeclared = sorted(
        key for key in read if not any(key == d or key.startswith(f"{d}.") for d in declared)
    )
    assert not undeclared, f"dvc.yaml: stage {name!r} reads params it does not declare"


def _entry_points() -> set[Path]:
    """The stages' modules, the batch commands, the monitor and the console command: the top
    floor."""
    stages = {_stage_module(stage) for stage in STAGES.values()}
    others = {SOURCE / "predict.py", SOURCE / "score_spark.py", SOURCE / "monitor.py"}
    return stages | others | {SOURCE / "cli.py"}


def test_lower_layers_never_import_an_entry_point():
    top = _entry_points()
    offenders = {
        str(module.relative_to(SOURCE)): sorted(str(p.relative_to(SOURCE)) for p in found & top)
        for module in SOURCE.rglob("*.py")
        if module not in top and (found := _imports(module)) & top
    }
    assert not offenders


def test_modules_import_each_other_without_loops():
    graph = {module: _imports(module) for module in SOURCE.rglob("*.py")}
    for start in graph:
        pending, seen = list(graph[start]), set()
        while pending:
            module = pending.pop()
            assert module != start, f"{start.relative_to(SOURCE)} imports itself through others"
            if module not in seen:
                seen.add(module)
                pending.extend(graph.get(module, ()))


def test_only_the_spark_module_imports_pyspark():
    """pyspark is the optional `spark` extra: one module imports it, and only the
    `score-spark` command imports that module (so nothing else needs Spark installed)."""
    importers = set()
    for module in SOURCE.rglob("*.py"):
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            names += [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            if any(name.split(".")[0] in ("pyspark", "py4j") for name in names):
                importers.add(module.relative_to(SOURCE).as_posix())
    assert importers == {"scoring/spark.py"}
    spark = SOURCE / "scoring" / "spark.py"
    users = {m.relative_to(SOURCE).as_posix() for m in SOURCE.rglob("*.py") if spark in _imports(m)}
    assert users == {"score_spark.py"}
