"""The batch command's streamed reading and writing, on the exported fixture model: chunk by
chunk, it answers exactly as the whole table scored at once does, and a bad table leaves no
output behind."""

from __future__ import annotations

import gzip
import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from {{ cookiecutter.package_name }}.data import batches
from {{ cookiecutter.package_name }}.errors import StageError
from {{ cookiecutter.package_name }}.scoring.stream import ScoredColumns, score_file
from {{ cookiecutter.package_name }}.serving.predictor import Predictor


@pytest.fixture(scope="module")
def onnx(served_dir) -> Predictor:
    return Predictor.load(served_dir, runtime="onnx")


@pytest.fixture(scope="module")
def table(onnx, splits) -> pd.DataFrame:
    """The test split, 30 times over (a few thousand rows), with a key column."""
    rows = pd.concat([splits[1].drop(columns=[onnx.meta.target])] * 30, ignore_index=True)
    return rows.assign(key=np.arange(len(rows)))


@pytest.fixture
def small_chunks(monkeypatch):
    """Chunks of a few hundred rows: every table here is read in many."""
    monkeypatch.setattr(batches, "BATCH_ROWS", 300)
    monkeypatch.setattr(batches, "CSV_BLOCK_BYTES", 16_384)


def expected(predictor: Predictor, frame: pd.DataFrame) -> pd.DataFrame:
    """The whole table scored at once, as the batch command did before it streamed."""
    labels, proba = predictor.predict_frame(frame)
    scored = ScoredColumns.plan(predictor.classes, frame.columns)
    out = pd.DataFrame({"key": frame["key"].to_numpy()})
    scored.add_to(out, labels, proba)
    return out


def assert_same_answers(got: pd.DataFrame, want: pd.DataFrame, scored: list[str]) -> None:
    got = got.assign(key=got["key"].astype(int)).sort_values("key").reset_index(drop=True)
    assert got["key"].tolist() == want["key"].tolist()
    for name in scored:
        if pd.api.types.is_float_dtype(want[name]):
            assert np.allclose(got[name].astype(float), want[name], rtol=0, atol=1e-9), name
        else:
            assert got[name].astype(str).tolist() == want[name].astype(str).tolist(), name


def written(path):
    return pq.read_table(path).to_pandas() if path.suffix == ".parquet" else pd.read_csv(path)


@pytest.mark.parametrize("kind", ["csv", "csv.gz", "parquet", "partitioned"])
def test_chunks_answer_as_the_whole_table(onnx, table, tmp_path, small_chunks, kind):
    source = tmp_path / f"in.{kind}"
    if kind == "csv":
        table.to_csv(source, index=False)
    elif kind == "csv.gz":
        with gzip.open(source, "wt", encoding="utf-8") as handle:
            table.to_csv(handle, index=False)
    elif kind == "parquet":
        table.to_parquet(source, index=False)
    else:  # hive folders: part=0/, part=1/, ...; the folder is the input
        parted = pa.Table.from_pandas(table.assign(part=table["key"] % 3), preserve_index=False)
        pq.write_to_dataset(parted, source, partition_cols=["part"])
    for output in (tmp_path / "out.parquet", tmp_path / "out.csv"):
        stats = score_file(onnx, str(source), output)
        assert stats.rows == len(table) and stats.chunks > 5
        scored = ScoredColumns.plan(onnx.classes, table.columns).names
        assert_same_answers(written(output), expected(onnx, table), scored)
        if kind == "partitioned":
            assert "part" in written(output).columns


def test_a_number_column_that_changes_type_after_the_first_chunks(
    onnx, table, tmp_path, small_chunks
):
    """Whole numbers for thousands of rows, then decimals, money text and true/false: the
    cleaning reads them as it reads the whole table (a streamed reader that types columns by
    their first block would fail there)."""
    numeric = [n for n, spec in onnx.schema.columns.items() if spec.kind == "numeric"]
    if not numeric:
        pytest.skip("the model reads no number column")
    name, frame = numeric[0], table.copy()
    values = frame[name].round().astype("Int64").astype(object)
    tail = len(frame) - 50
    values.iloc[tail:] = [["12.5", "$1,234", "true", " 7 ", "45%"][i % 5] for i in range(50)]
    frame[name] = values
    source, output = tmp_path / "late.csv", tmp_path / "out.csv"
    frame.to_csv(source, index=False)

    score_file(onnx, str(source), output)
    whole = pd.read_csv(source)  # as the command read it before: the whole file at once
    whole[name] = whole[name].replace({"true": "1"})  # true is 1 in a number column
    scored = ScoredColumns.plan(onnx.classes, table.columns).names
    assert_same_answers(written(output), expected(onnx, whole), scored)


def test_a_bad_row_deep_in_the_file_leaves_no_output(onnx, table, tmp_path, small_chunks):
    source, output = tmp_path / "ragged.csv", tmp_path / "out.parquet"
    table.to_csv(source, index=False)
    lines = source.read_text(encoding="utf-8").splitlines()
    lines[-10] += ",surplus"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    output.write_bytes(b"the previous run's output")
    with pytest.raises(StageError, match=rf"ragged\.csv: line {len(lines) - 9} has"):
        score_file(onnx, str(source), output)
    assert output.read_bytes() == b"the previous run's output"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.parquet", "ragged.csv"]


def test_a_missing_column_is_named_before_anything_is_written(onnx, table, tmp_path):
    name = onnx.schema.features[0]
    source, output = tmp_path / "in.parquet", tmp_path / "out.csv"
    table.drop(columns=[name]).to_parquet(source)
    missing = re.escape(f"in.parquet: columns missing from the input: {name}")
    with pytest.raises(StageError, match=missing):
        score_file(onnx, str(source), output)
    assert not output.exists()


@pytest.mark.parametrize(
    ("rows", "problem"),
    [(None, "the file is empty"), ([], "the table has a header but no rows"),
     ([b"\xff"], r"not UTF-8 text \(line 2\)"), ([b"1", b"\xff"], r"not UTF-8 text \(line 3\)")],
)  # fmt: skip
def test_an_empty_or_unreadable_csv_is_one_line(onnx, table, tmp_path, rows, problem):
    """rows: the lines after the header, each a row of ones ending in this cell."""
    header = ",".join(table.columns).encode()
    width = len(table.columns)
    lines = [header, *(b",".join([b"1"] * (width - 1) + [cell]) for cell in rows or [])]
    source, output = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_bytes(b"" if rows is None else b"\n".join(lines) + b"\n")
    with pytest.raises(StageError, match=problem):
        score_file(onnx, str(source), output)
    assert not output.exists()


def test_a_semicolon_csv_with_a_bom_and_a_prediction_column(onnx, table, tmp_path):
    frame = table.head(200).assign(prediction="theirs")
    source, output = tmp_path / "export.csv", tmp_path / "out.csv"
    frame.to_csv(source, index=False, sep=";", encoding="utf-8-sig")
    score_file(onnx, str(source), output)
    out = written(output)
    assert (out["prediction"] == "theirs").all()  # the table's own column, kept
    assert_same_answers(out, expected(onnx, frame), ["_prediction"])
