"""The words of free-text columns in the ONNX graph (`training.words`).

skl2onnx converts the vectorizers to StringNormalizer (lower case), Tokenizer and
TfIdfVectorizer nodes. StringNormalizer takes its locale from the graph, and without one ONNX
Runtime asks the operating system for en_US.UTF-8, which slim images and many servers lack:
the session then fails to load. The graph names the POSIX "C" locale instead, which every
system has. It lower-cases ASCII letters, the only letters a word holds (TOKEN_PATTERN), so
the graph finds the words scikit-learn finds; the parity check at export confirms it.
"""

from __future__ import annotations

from typing import Any

LOCALE = "C"


def portable_lowercase(model: Any) -> Any:
    """The model with every StringNormalizer set to the "C" locale (in place)."""
    from onnx import helper

    for node in model.graph.node:
        if node.op_type != "StringNormalizer":
            continue
        kept = [a for a in node.attribute if a.name != "locale"]
        del node.attribute[:]
        node.attribute.extend([*kept, helper.make_attribute("locale", LOCALE)])
    return model
