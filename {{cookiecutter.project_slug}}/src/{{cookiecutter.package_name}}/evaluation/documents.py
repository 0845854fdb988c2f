"""The evaluation as documents a reader takes in within two minutes.

`write_documents` renders reports/report.html (self-contained: the images are embedded),
reports/README.md (the portfolio write-up) and reports/model_card.md from the Jinja2
templates in templates/, all from one context built here from the evaluation.
"""

from __future__ import annotations

import base64
import os
import re
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from ..files import write_text
from .analysis import Evaluation
from .canvas import Plot
from .report_text import context

TEMPLATES = Path(__file__).parent / "templates"
# Metrics on a 0-1 scale: differences are told in points (hundredths).


def _html_inline(text: str) -> Markup:
    """Escape text for HTML, then show `code` spans as <code>."""
    return Markup(re.sub(r"`([^`]+)`", r"<code>\1</code>", str(escape(text))))


def _md_cell(text: object) -> str:
    """Text inside a Markdown table cell: a pipe would end the cell, a newline the row."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def environment(templates: Path = TEMPLATES) -> Environment:
    """Jinja2 with our filters (the monitoring report's templates are in another folder)."""
    env = Environment(
        loader=FileSystemLoader(templates),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["inline"] = _html_inline
    env.filters["cell"] = _md_cell
    return env


def write_documents(
    ev: Evaluation, figures: list[Plot], figures_dir: Path, html: Path, readme: Path, card: Path
) -> None:
    """Render report.html (images embedded), README.md and model_card.md."""
    env, values = environment(), context(ev, figures)
    images = {
        p.file: base64.b64encode((figures_dir / p.file).read_bytes()).decode("ascii")
        for p in figures
    }
    write_text(env.get_template("report.html.j2").render(values, images=images), html)
    for template, path in (("README.md.jinja", readme), ("model_card.md.jinja", card)):
        relative = Path(os.path.relpath(figures_dir, path.parent)).as_posix()
        write_text(env.get_template(template).render(values, figures=relative), path)
