"""A Jinja extension that gives the hooks this template's choice lists and folder as data.

The pre-generation hook checks every choice again, because a replay file can hold a
value cookiecutter.json does not offer. It cannot open cookiecutter.json itself:
cookiecutter runs hooks inside the new project's folder and passes the template's
location as typed (`cookiecutter .`, `cookiecutter ../template`), so a relative path
points nowhere there. This module's own path is absolute: cookiecutter imports it
from the template folder, which it puts on sys.path for `_extensions`.

The hooks are rendered from inside the template folder (cookiecutter's `work_in(repo_dir)`,
cruft's re-renders too), so that folder is the working directory then. It is preferred to
this module's own: Python imports the module once per process, so a second bake in the same
process (the template tests bake copies of the template) would otherwise read the first one.
"""

from __future__ import annotations

import json
from pathlib import Path

from jinja2 import Environment
from jinja2.ext import Extension

COOKIECUTTER_JSON = Path(__file__).resolve().with_name("cookiecutter.json")


def template_folder() -> Path:
    """The folder of the template being rendered (see above)."""
    here = Path.cwd()
    return here if (here / COOKIECUTTER_JSON.name).is_file() else COOKIECUTTER_JSON.parent


def choices(folder: Path) -> dict[str, list[str]]:
    """The choice options of cookiecutter.json, each with its list of allowed values."""
    declared = json.loads((folder / COOKIECUTTER_JSON.name).read_text(encoding="utf-8"))
    return {
        key: value
        for key, value in declared.items()
        if isinstance(value, list) and not key.startswith("_")
    }


class TemplateChoices(Extension):
    """Adds the globals `template_choices`, {option: [allowed values]}, and `template_dir`, this
    template's absolute folder (the post-generation hook records its git commit)."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        folder = template_folder()
        environment.globals["template_choices"] = choices(folder)
        environment.globals["template_dir"] = str(folder)
