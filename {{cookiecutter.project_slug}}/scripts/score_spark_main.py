"""spark-submit's main file for `score-spark` (spark-submit runs a file, not a module).

    spark-submit --py-files dist/{{ cookiecutter.package_name }}.zip scripts/score_spark_main.py \
        --input PATH --output PATH --model-dir models

See the README's "Scoring at scale" for what a cluster needs.
"""

from {{ cookiecutter.package_name }}.score_spark import submit

submit()
