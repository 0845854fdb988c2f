"""Bake the default project into demo/, train it, serve it and ask it for one prediction.

`make demo` runs this with the template's .venv, which holds every dependency of the
generated project; the baked project itself is not installed.
"""

from __future__ import annotations

import json
import shutil
import sys
import time

# Run as a script, so scripts/ is on sys.path and its sibling module imports directly.
from baking import (
    TEMPLATE_DIR,
    CommandFailed,
    bake,
    first_test_record,
    package_name,
    params_target,
    predict,
    project_env,
    run,
    serve,
)

DEMO_DIR = TEMPLATE_DIR / "demo"


def step(message: str) -> None:
    print(f"==> {message}", flush=True)


def demo() -> None:
    step(f"Baking the default project into {DEMO_DIR.relative_to(TEMPLATE_DIR)}/")
    shutil.rmtree(DEMO_DIR, ignore_errors=True)
    project = bake(DEMO_DIR)
    env = project_env(project)

    step("Training: dvc repro (every stage, from ingest to register)")
    started = time.monotonic()
    run(["dvc", "repro"], project, env)
    step(f"Pipeline finished in {time.monotonic() - started:.0f} s")

    package = package_name(project)
    record = first_test_record(project, params_target(project))
    step(f"Serving {package}.api:app and posting the first test record to /predict")
    print(json.dumps(record, indent=2, ensure_ascii=False))
    with serve(project, package, env) as url:
        answer = predict(url, record)
    if answer.status_code != 200:
        raise CommandFailed(f"/predict answered {answer.status_code}: {answer.text}")
    print(json.dumps(answer.json(), indent=2, ensure_ascii=False))

    metrics = json.loads((project / "reports" / "metrics.json").read_text(encoding="utf-8"))
    step(f"Champion: {metrics['champion']}, test ROC AUC {metrics['test']['roc_auc']:.3f}")
    print(f"Open the project: cd {project.relative_to(TEMPLATE_DIR)}")


def main() -> int:
    try:
        demo()
    except CommandFailed as err:
        print(f"demo failed: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
