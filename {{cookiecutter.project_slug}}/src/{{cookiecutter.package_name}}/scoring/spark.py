"""Scoring a Parquet dataset on Spark with the exported ONNX graph: the only module that imports
pyspark (the `spark` extra).

The driver loads the model folder as the service does (`Predictor.load`: checksums checked,
the ONNX graph required), checks the dataset's columns against the model's schema before
anything runs (Spark is lazy: a missing column or a wrong type is one line, and nothing is
written), and broadcasts the graph's bytes: workers need no copy of the model folder. Each
partition is scored by `mapInPandas` through the API's path (`Predictor.predict_frame`: the
schema's cleaning, the features, the graph), with one ONNX Runtime session per Python worker
(workers are reused, so the session is made once per process). The rows come out with the
same columns as the batch command's (`stream.ScoredColumns`), written as Parquet to a
temporary folder beside OUTPUT and renamed to it once the job has succeeded.
"""

from __future__ import annotations

import os
import re
import secrets
import sys
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from pyspark.errors import AnalysisException, PySparkException
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import types as T

from ..data.schema import Schema
from ..errors import StageError
from ..serving.artifacts import SERVING_DIR
from ..serving.metadata import ModelMeta, ServingManifest
from ..serving.predictor import Predictor
from .stream import ScoredColumns

# mapInPandas works with pandas 3 (the tests run it); PySpark 4 warns that it may not.
warnings.filterwarnings("ignore", "PySpark does not yet fully support", FutureWarning)

ARROW_BATCH_ROWS = 50_000  # rows per pandas frame handed to a worker (Spark's default: 10,000)
# The Spark types each kind of column may arrive as (the cleaning reads each of them).
INTEGRAL = (T.ByteType, T.ShortType, T.IntegerType, T.LongType)
ACCEPTED = {
    "numeric": (*INTEGRAL, T.FloatType, T.DoubleType, T.DecimalType, T.BooleanType),
    "categorical": (T.StringType, *INTEGRAL, T.BooleanType),
    "text": (T.StringType,),
    "datetime": (T.TimestampType, T.TimestampNTZType, T.DateType, T.StringType),
}
READS = {"numeric": "a number", "categorical": "text", "text": "text", "datetime": "a date"}
LABEL_TYPES = {"string": T.StringType(), "int64": T.LongType(), "bool": T.BooleanType()}


@dataclass(frozen=True)
class Shipped:
    """What every worker gets once (a broadcast): the model's description and its graph."""

    meta: str  # models/model.json
    manifest: str  # models/serving/manifest.json
    graph: bytes  # the ONNX file, checked against the manifest's SHA-256 on arrival
    scored: ScoredColumns


_PREDICTORS: dict[str, Predictor] = {}  # in each Python worker: the graph's SHA-256 -> model


def _predictor(shipped: Shipped) -> Predictor:
    manifest = ServingManifest.model_validate_json(shipped.manifest)
    key = manifest.sha256 or ""
    if key not in _PREDICTORS:
        meta = ModelMeta.model_validate_json(shipped.meta)
        _PREDICTORS[key] = Predictor.from_graph(meta, manifest, shipped.graph, threads=1)
    return _PREDICTORS[key]


def partition_scorer(shipped: object) -> Callable[[Iterator[pd.DataFrame]], Iterator[pd.DataFrame]]:
    """mapInPandas' function: each frame of a partition with the scored columns appended."""

    def score_frames(frames: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        value: Shipped = shipped.value  # type: ignore[attr-defined]  # a Broadcast
        predictor = _predictor(value)
        for frame in frames:
            labels, proba = predictor.predict_frame(frame)
            value.scored.add_to(frame, labels, proba)
            yield frame

    return score_frames


def session(master: str | None, driver_memory: str | None) -> SparkSession:
    """The Spark session: spark-submit's (master None: its --master and --conf apply), or a
    local one of `master` (local[2], local[*]) on the loopback address, without the web UI."""
    builder = SparkSession.builder.appName("score-spark")
    builder = builder.config("spark.sql.execution.arrow.maxRecordsPerBatch", ARROW_BATCH_ROWS)
    if master is not None:
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # workers: this Python
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        builder = (
            builder.master(master)
            .config("spark.driver.memory", driver_memory or "1g")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
        )
    try:
        return builder.getOrCreate()
    except PySparkException as exc:  # no Java, or one Spark cannot run on
        reason = _first_line(exc)
        raise StageError(f"Spark did not start ({reason}); it needs Java 17 or 21") from None


def read_input(spark: SparkSession, path: str) -> DataFrame:
    try:
        return spark.read.parquet(path)
    except AnalysisException as exc:
        if "PATH_NOT_FOUND" in str(exc):
            raise StageError(f"{path}: not found") from None
        raise StageError(f"{path}: not a readable Parquet dataset ({_first_line(exc)})") from None


def check_columns(frame: DataFrame, schema: Schema, label: str) -> None:
    """Refuse, in one line, a dataset that lacks a column the model reads or holds one in a
    type its kind cannot be read from (checked on the driver, before any job runs)."""
    fields = {field.name: field.dataType for field in frame.schema.fields}
    missing = [name for name in schema.columns if name not in fields]
    if missing:
        raise StageError(f"{label}: columns missing from the input: {', '.join(missing)}")
    wrong = [
        f"column {name!r} is {fields[name].simpleString()}, the model reads {READS[spec.kind]}"
        for name, spec in schema.columns.items()
        if not isinstance(fields[name], ACCEPTED[spec.kind])
    ]
    if wrong:
        raise StageError(f"{label}: {'; '.join(wrong)}")


def output_schema(frame: DataFrame, scored: ScoredColumns) -> T.StructType:
    """The dataset's fields and the scored ones (a new StructType: `schema.add` would change
    the DataFrame's own)."""
    label = LABEL_TYPES.get(str(scored.label_type), T.DoubleType())
    added = [T.StructField(scored.prediction, label)]
    added += [T.StructField(name, T.DoubleType()) for name in scored.probabilities]
    return T.StructType([*frame.schema.fields, *added])


def partition_columns(spark: SparkSession, frame: DataFrame) -> list[str]:
    """The input's hive partition columns (`region=north/` folders): the dataset's columns
    that its files do not hold."""
    files = frame.inputFiles()
    if not files:
        return []
    own = set(spark.read.parquet(files[0]).columns)
    return [name for name in frame.columns if name not in own]


def score(
    spark: SparkSession, source: str, output: str, model_dir: Path, partition_by: list[str] | None
) -> int:
    """Score the Parquet dataset at `source` into `output`; the rows written."""
    predictor = Predictor.load(model_dir, runtime="onnx", threads=1)  # checks every file
    manifest = predictor.manifest
    assert manifest is not None and manifest.file is not None  # runtime onnx: both are set
    frame = read_input(spark, source)
    check_columns(frame, predictor.schema, source)
    scored = ScoredColumns.plan(predictor.classes, frame.columns, casefold=True)
    columns = partition_columns(spark, frame) if partition_by is None else partition_by
    unknown = [name for name in columns if name not in frame.columns]
    if unknown:
        raise StageError(f"--partition-by: no column {', '.join(unknown)} in {source}")
    graph = (model_dir / SERVING_DIR / manifest.file).read_bytes()
    meta = predictor.meta.model_dump_json(by_alias=True)
    shipped = Shipped(meta, manifest.model_dump_json(), graph, scored)
    broadcast = spark.sparkContext.broadcast(shipped)
    result = frame.mapInPandas(partition_scorer(broadcast), output_schema(frame, scored))
    write(spark, result, output, columns)
    return spark.read.parquet(output).count()


def write(spark: SparkSession, result: DataFrame, output: str, columns: list[str]) -> None:
    """Run the job into a folder beside `output`, then put it in `output`'s place; a failed
    job leaves `output` as it was."""
    jvm = spark.sparkContext._jvm  # Hadoop's file system: local, HDFS, S3, GCS, ...
    target = jvm.org.apache.hadoop.fs.Path(output)
    files = target.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    temporary = f"{output.rstrip('/')}.tmp-{secrets.token_hex(4)}"
    writer = result.write.mode("overwrite")
    try:
        (writer.partitionBy(*columns) if columns else writer).parquet(temporary)
    except Exception as exc:  # pyspark's errors, or py4j's for the JVM's it does not convert
        files.delete(jvm.org.apache.hadoop.fs.Path(temporary), True)
        raise StageError(f"{output}: not written: the Spark job failed: {_cause(exc)}") from None
    if files.exists(target):
        files.delete(target, True)
    if not files.rename(jvm.org.apache.hadoop.fs.Path(temporary), target):
        raise StageError(f"{output}: the scored rows are in {temporary}; it could not be renamed")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _cause(exc: BaseException) -> str:
    """The worker's own error (a Python exception's last line), not the JVM's stack."""
    found = re.findall(r"^(?:\w+\.)*\w+(?:Error|Exception): .+$", str(exc), re.MULTILINE)
    return found[-1] if found else _first_line(exc)
