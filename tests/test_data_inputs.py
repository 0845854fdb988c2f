"""Bad source tables end `dvc repro` with one clear line and no partial outputs; URLs work.

The pre-gen hook already refuses a missing file, a bad extension or a target that is not in
the CSV header at bake time. What it cannot see is a source that goes bad later: a file
replaced by an empty or broken export, a params.yaml edited to point elsewhere, a server
that is down. Each case here bakes nothing new: it breaks one valid project (restored
after every case) and runs the real `dvc repro`.
"""

from __future__ import annotations

import functools
import http.server
import json
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import baking
import numpy as np
import pandas as pd
import pytest
import yaml

# One worker runs this module: its tests share a module or session fixture (conftest.py).
pytestmark = pytest.mark.xdist_group("data_inputs")

TARGET = "Outcome"
SOURCE = "data/source/table.csv"  # where the post-gen hook copies table.csv


def valid_table(rows: int = 400) -> pd.DataFrame:
    """A small binary table with a learnable signal."""
    rng = np.random.default_rng(11)
    x = rng.normal(size=rows)
    colour = rng.choice(["red", "green", "blue"], rows)
    signal = x + (colour == "red") + rng.normal(0, 0.8, rows)
    return pd.DataFrame(
        {
            "x value": x.round(4),
            "colour": colour,
            "visits": rng.poisson(3, rows),
            TARGET: np.where(signal > 0.4, "yes", "no"),
        }
    )


def repro(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`dvc repro` that may fail: the caller checks the exit code and output."""
    env = baking.project_env(project)
    return baking.run(["dvc", "repro", *args], project, env, timeout=300, check=False)


def stage_errors(done: subprocess.CompletedProcess[str]) -> list[str]:
    """The lines a stage prints when it stops on a known problem (`error: ...`)."""
    return [line for line in done.stderr.splitlines() if line.startswith("error: ")]


def assert_one_clear_error(done: subprocess.CompletedProcess[str], *expected: str) -> None:
    output = done.stdout + done.stderr
    assert done.returncode != 0, output
    assert "Traceback" not in output, output
    errors = stage_errors(done)
    assert len(errors) == 1, output
    for part in expected:
        assert part in errors[0], f"{part!r} not in {errors[0]!r}"


def assert_no_outputs(project: Path) -> None:
    """Nothing a stage writes exists: no raw table (not even a temporary file), no schema."""
    raw = project / "data" / "raw"
    leftovers = sorted(p.name for p in raw.iterdir()) if raw.exists() else []
    assert leftovers in ([], [".gitignore"]), leftovers
    assert not (project / "schema.yaml").exists()
    assert not (project / "dvc.lock").exists()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass  # no request lines in the test output


@pytest.fixture(scope="module")
def web_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the valid table as CSV and as Parquet, for the local HTTP server."""
    folder = tmp_path_factory.mktemp("web")
    frame = valid_table()
    frame.to_csv(folder / "table.csv", index=False)
    frame.to_parquet(folder / "table.parquet", index=False)
    return folder


@pytest.fixture(scope="module")
def server(web_root: Path) -> Iterator[str]:
    """http://127.0.0.1:<port> serving web_root from a thread of this process."""
    handler = functools.partial(QuietHandler, directory=str(web_root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def valid_project(tmp_path_factory: pytest.TempPathFactory, web_root: Path) -> Path:
    """A custom project baked from a valid local CSV; never run, so it has no outputs."""
    output = tmp_path_factory.mktemp("inputs")
    project = baking.bake(
        output,
        {
            "project_name": "Bad inputs",
            "dataset": "custom",
            "data_source": str(web_root / "table.csv"),
            "target": TARGET,
        },
    )
    baking.set_params(project, {"train.fast": True})
    return project


@pytest.fixture
def project(valid_project: Path) -> Iterator[Path]:
    """The valid project; its source file and params.yaml are restored after the test."""
    source = valid_project / SOURCE
    saved = {path: path.read_bytes() for path in (source, valid_project / "params.yaml")}
    assert_no_outputs(valid_project)
    yield valid_project
    for path, data in saved.items():
        path.write_bytes(data)
    for extra in (valid_project / "data" / "source").iterdir():
        if extra.name not in {"table.csv", "table.csv.dvc", ".gitignore"}:
            extra.unlink()


def write_source(text: bytes) -> Callable[[Path], str]:
    """Replace data/source/table.csv with these bytes; the error names that path."""

    def setup(project: Path) -> str:
        (project / SOURCE).write_bytes(text)
        return SOURCE

    return setup


def other_file(name: str, data: bytes) -> Callable[[Path], str]:
    """Point data.source at a new file under data/source/."""

    def setup(project: Path) -> str:
        path = f"data/source/{name}"
        (project / path).write_bytes(data)
        baking.set_params(project, {"data.source": path})
        return path

    return setup


def missing_target(project: Path) -> str:
    baking.set_params(project, {"data.target": "Outcome (typo)"})
    return SOURCE


def closed_port(project: Path) -> str:
    url = f"http://127.0.0.1:{baking.free_port()}/table.csv"
    baking.set_params(project, {"data.source": url})
    return url


HEADER = b"x value,colour,visits,Outcome\n"
ROWS = b"0.5,red,3,yes\n-1.2,blue,1,no\n0.1,green,4,no\n"
# (how to break the project, words the error line must hold besides the source)
BAD_INPUTS = {
    "empty file": (write_source(b""), "empty"),
    "header only": (write_source(HEADER), "no rows"),
    "wrong delimiter": (
        write_source(HEADER.replace(b",", b":") + ROWS.replace(b",", b":")),
        "one column",
    ),
    "ragged rows": (write_source(HEADER + ROWS + b"0.3,red,2,yes,extra,fields\n"), "fields"),
    "non-UTF-8": (write_source(HEADER + "0.5,grün,3,ja\n".encode("latin-1") + ROWS), "UTF-8"),
    "unknown file type": (other_file("table.xlsx", b"PK\x03\x04 not a csv"), "file type"),
    "corrupt Parquet": (other_file("table.parquet", b"PAR1 broken PAR1"), "Parquet"),
    "missing target column": (missing_target, "'Outcome (typo)'"),
    "unreachable URL": (closed_port, "cannot be downloaded"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_ends_repro_with_one_clear_line_and_no_outputs(case, project):
    setup, problem = BAD_INPUTS[case]
    source = setup(project)
    done = repro(project)
    assert_one_clear_error(done, source, problem)
    assert_no_outputs(project)


def test_url_answering_404_names_the_url_and_the_status(project, server):
    url = f"{server}/no-such-table.csv"
    baking.set_params(project, {"data.source": url})
    done = repro(project)
    assert_one_clear_error(done, url, "404")
    assert_no_outputs(project)


def test_changed_target_is_refused_once_the_schema_exists(valid_project, tmp_path):
    """schema.yaml persists across runs; a new data.target must not train on the old one."""
    project = Path(shutil.copytree(valid_project, tmp_path / "copy", symlinks=True))
    baking.run(["dvc", "repro", "ingest"], project, baking.project_env(project))
    assert yaml.safe_load((project / "schema.yaml").read_text(encoding="utf-8"))["target"] == TARGET
    baking.set_params(project, {"data.target": "Outcome (typo)"})
    done = repro(project, "validate")
    assert_one_clear_error(done, "Outcome (typo)")


def test_url_sources_train_end_to_end(server, web_root, tmp_path):
    csv_url = f"{server}/table.csv"
    project = baking.bake(
        tmp_path,
        {
            "project_name": "From a URL",
            "dataset": "custom",
            "data_source": csv_url,
            "target": TARGET,
        },
    )
    params = yaml.safe_load((project / "params.yaml").read_text(encoding="utf-8"))
    assert params["data"]["source"] == csv_url
    assert not (project / "data" / "source").exists()  # nothing copied: read at repro time
    baking.set_params(project, {"train.fast": True})
    env = baking.project_env(project)

    baking.run(["dvc", "repro", "train"], project, env)
    raw = project / "data" / "raw" / "data.parquet"
    expected = pd.read_csv(web_root / "table.csv")
    pd.testing.assert_frame_equal(pd.read_parquet(raw), expected, check_dtype=False)
    meta = json.loads((project / "models" / "model.json").read_text(encoding="utf-8"))
    assert meta["problem_type"] == "binary"
    assert sorted(meta["classes"]) == ["no", "yes"]

    # The same table as Parquet over HTTP: ingest reads it to the same raw table.
    baking.set_params(project, {"data.source": f"{server}/table.parquet"})
    baking.run(["dvc", "repro", "train"], project, env)
    pd.testing.assert_frame_equal(pd.read_parquet(raw), expected, check_dtype=False)
