"""The table: reading sources, schema.yaml (inference, cleaning, contract), the profile,
the split, and the engineered features."""

import warnings

# Where PySpark is installed (the spark extra), pandera (contract.py) imports pandas-on-Spark,
# and PySpark's mapInPandas (scoring/spark.py) checks pandas' version: both warn that pandas 3
# is not supported yet. Nothing uses pandas-on-Spark; mapInPandas works (the tests run it).
warnings.filterwarnings("ignore", "PySpark does not yet fully support pandas", FutureWarning)
