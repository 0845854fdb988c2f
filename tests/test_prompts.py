"""Asked interactively, every option is a question in words, not its key."""

from __future__ import annotations

import json
import re

import baking
from cookiecutter import prompt
from cookiecutter.generate import generate_context

COOKIECUTTER_JSON = baking.TEMPLATE_DIR / "cookiecutter.json"


def options() -> dict:
    declared = json.loads(COOKIECUTTER_JSON.read_text(encoding="utf-8"))
    return {key: value for key, value in declared.items() if not key.startswith("_")}


def test_every_option_has_a_prompt():
    prompts = json.loads(COOKIECUTTER_JSON.read_text(encoding="utf-8"))["__prompts__"]
    assert set(prompts) == set(options())
    for key, value in options().items():
        if isinstance(value, list):  # a choice: a question, and labels only for its choices
            assert prompts[key]["__prompt__"].strip(), key
            assert set(prompts[key]) - {"__prompt__"} <= set(value), key
        else:
            assert isinstance(prompts[key], str) and prompts[key].strip(), key


def test_the_questions_cookiecutter_asks_are_the_prompts(monkeypatch):
    asked: list[str] = []

    def answer_with_default(question: str, **kwargs):
        asked.append(question)
        return kwargs["default"]

    monkeypatch.setattr(prompt.Prompt, "ask", answer_with_default)
    monkeypatch.syspath_prepend(str(baking.TEMPLATE_DIR))  # for template_choices.py
    prompt.prompt_for_config(generate_context(context_file=str(COOKIECUTTER_JSON)))

    # "  [dim][7/15][/] Question\n    1 - choice ...": the question without its counter.
    questions = [re.sub(r"^\s*\[dim\]\[\d+/\d+\]\[/\] ", "", q).splitlines()[0] for q in asked]
    prompts = json.loads(COOKIECUTTER_JSON.read_text(encoding="utf-8"))["__prompts__"]
    expected = [
        prompts[key] if isinstance(prompts[key], str) else prompts[key]["__prompt__"]
        for key in options()
    ]
    assert questions == expected
    choice_lines = "\n".join(asked)
    assert "Telco customer churn" in choice_lines
    assert "Proprietary (no LICENSE file)" in choice_lines
