"""/predict/csv's table work: reading within limits, rows validated as API records, answers
written safe for spreadsheets (`api.csv_table`, `api.csv_scoring`), on the fixtures' model."""

import io
import threading

import numpy as np
import pandas as pd
import pytest
from fastapi import HTTPException
from pydantic import TypeAdapter

from {{ cookiecutter.package_name }}.api.csv_scoring import MISSING_TEXT, score_table
from {{ cookiecutter.package_name }}.api.csv_table import CsvLimits, CsvReader, formula_safe
from {{ cookiecutter.package_name }}.api.problems import MAX_PROBLEMS, InputProblems
from {{ cookiecutter.package_name }}.api.schemas import record_model

LIMITS = CsvLimits(max_columns=60, max_rows=100)
TABLE_LIMITS = CsvLimits(max_columns=1000, max_rows=100)  # the service's default width


def said(exc: InputProblems) -> str:
    """A refusal's problems as text: 'line 3: ...'."""
    return "; ".join(f"{' '.join(p['loc'][1:])}: {p['msg']}" for p in exc.errors())


def read(body: bytes, limits: CsvLimits = LIMITS):
    """(header, [(line, cells)]) or (status, detail)."""
    try:
        reader = CsvReader(body, limits)
        return reader.header, list(reader.rows())
    except HTTPException as exc:
        return exc.status_code, exc.detail
    except InputProblems as exc:
        return 422, said(exc)


def test_reader_counts_lines_and_skips_blank_ones():
    body = '\ufeffa,b\r\n1,2\r\n\r\n"x\ny",4\n'.encode()
    assert read(body) == (["a", "b"], [(2, ["1", "2"]), (4, ["x\ny", "4"])])
    assert read(b"a,b\r1,2\r") == (["a", "b"], [(2, ["1", "2"])])  # old Mac line ends


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        (b"a,b\n1,2\n3,4,5\n", 422, "line 3: 3 fields, but the header has 2 columns"),
        (b"a,b\n1,2\n3\n", 422, "line 3: 1 field"),
        (b"a,b,a\n1,2,3\n", 422, "header a: the column appears twice (columns 1 and 3)"),
        (b'a,b\n1,"2\n', 422, "line 2: not a well-formed CSV row"),
        (b"a,b\n1,\xff\n", 422, "line 2: not UTF-8"),
        (b"", 422, "no CSV header"),
        (",".join(f"c{i}" for i in range(61)).encode(), 413, "61 columns, the limit is 60"),
        (b"a," * 60_000, 413, "line 1: the header of over 61440 bytes"),
        (b"a,b\n" + b"1," * 40_000 + b"2\n", 413, "line 2: a row of over 61440 bytes"),
        (b"a,b\n" + b"1,2\n" * 101, 413, "more than 100 rows"),
    ],
)
def test_reader_refuses_what_breaks_its_limits(body, status, says):
    got = read(body)
    assert got[0] == status and says in got[1], got


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ("=1+2", "'=1+2"),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("-3.5", "-3.5"),
        ("+12", "+12"),
        ("-1e-05", "-1e-05"),
        ("-1,234", "-1,234"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_formula_cells_get_an_apostrophe_numbers_do_not(cell, written):
    assert formula_safe(cell) == written


@pytest.fixture(scope="module")
def rows(predictor) -> TypeAdapter:
    return TypeAdapter(list[record_model(predictor.schema)])


@pytest.fixture(scope="module")
def table(predictor, splits) -> pd.DataFrame:
    return splits[1].drop(columns=[predictor.meta.target]).head(12).reset_index(drop=True)


@pytest.fixture(scope="module")
def number(predictor) -> str:
    found = [n for n, s in predictor.schema.columns.items() if s.kind == "numeric"]
    if not found:
        pytest.skip("no numeric column")
    return found[0]


def score(frame, predictor, rows, escape=True):
    """(status, the answer as text cells or the error body) for a table sent as CSV."""
    body = frame.to_csv(index=False).encode() if isinstance(frame, pd.DataFrame) else frame
    try:
        answer = score_table(body, predictor, rows, TABLE_LIMITS, escape, threading.Event())
    except HTTPException as exc:
        return exc.status_code, exc.detail
    except InputProblems as exc:
        return 422, {"detail": list(exc.errors()), "count": exc.count}
    return 200, pd.read_csv(io.StringIO(answer), dtype=str, keep_default_na=False)


def numbers(answer: pd.DataFrame, predictor) -> np.ndarray:
    """The answer's predicted values, or its class probabilities, as numbers."""
    if predictor.classes is None:
        return answer["prediction"].astype(float).to_numpy()
    return answer[[f"probability_{c}" for c in predictor.class_names]].astype(float).to_numpy()


def test_answer_keeps_every_cell_and_adds_predictions_and_warnings(table, predictor, rows):
    sent = table.assign(**{"=HYPERLINK(x)": "=1+2", "code": "00123", "delta": "-3.5"})
    status, answer = score(sent, predictor, rows)
    assert status == 200
    assert list(answer.columns[: sent.shape[1]]) == [
        *table.columns,
        "'=HYPERLINK(x)",
        "code",
        "delta",
    ]
    assert (answer["'=HYPERLINK(x)"] == "'=1+2").all()
    assert (answer["code"] == "00123").all() and (answer["delta"] == "-3.5").all()
    assert "warnings" in answer.columns
    labels, proba = predictor.predict_frame(table)
    expected = np.asarray(labels, dtype=float) if proba is None else proba
    assert np.allclose(numbers(answer, predictor), expected, rtol=1e-6, atol=1e-5)
    if proba is not None:
        assert list(answer["prediction"]) == [str(label) for label in labels]
    status, raw = score(sent, predictor, rows, escape=False)
    assert (raw["=HYPERLINK(x)"] == "=1+2").all()


def test_text_and_infinity_in_a_number_column_are_named_by_line_and_column(
    table, predictor, rows, number
):
    sent = table.astype({number: object})
    sent.loc[1, number] = "twelve"
    sent.loc[3, number] = "inf"
    status, answer = score(sent, predictor, rows)
    assert status == 422 and answer["count"] == 2
    assert [p["loc"] for p in answer["detail"]] == [
        ["body", "line 3", number],
        ["body", "line 5", number],
    ]


def test_problems_are_bounded_and_counted(table, predictor, rows, number):
    many = pd.concat([table] * 5, ignore_index=True).astype({number: object})
    many[number] = "n/a?"
    status, answer = score(many, predictor, rows)
    assert status == 422
    assert len(answer["detail"]) == MAX_PROBLEMS and answer["count"] == len(many)


def test_missing_markers_are_those_pandas_reads_as_missing(table, predictor, rows, number):
    text = "x,y\n" + "".join(f"{marker},1\n" for marker in sorted(MISSING_TEXT))
    read = pd.read_csv(io.StringIO(text + "present,1\n"))["x"]
    assert read.isna().sum() == len(MISSING_TEXT) and read.notna().sum() == 1
    marked = score(table.astype({number: object}).assign(**{number: "NA"}), predictor, rows)
    blank = score(table.assign(**{number: np.nan}), predictor, rows)
    assert marked[0] == blank[0] == 200
    assert list(marked[1]["warnings"]) == list(blank[1]["warnings"])
    assert np.allclose(numbers(marked[1], predictor), numbers(blank[1], predictor), rtol=1e-9)


def test_missing_feature_column_is_named(table, predictor, rows):
    gone = table.columns[0]
    status, answer = score(table.drop(columns=[gone]), predictor, rows)
    assert status == 422 and answer["count"] == 1
    assert answer["detail"][0]["loc"] == ["body", "header", gone]
    assert answer["detail"][0]["msg"] == "column missing from the CSV"
