"""The words of a free-text column as features: which words a value holds.

One vectorizer per text column, fitted on training rows only (it learns a vocabulary):
- linear models: TF-IDF weights of up to LINEAR_WORDS words (sparse);
- trees: whether each of the TREE_WORDS commonest words occurs (0 or 1). A tree splits on
  presence alone, and exact 0/1 values cannot land a hair's breadth from a split point in
  the float32 ONNX graph.

A word is a run of two or more ASCII letters or digits (`data.schema.WORD_PATTERN`), lower-
cased. The ONNX graph finds words with ONNX Runtime's Tokenizer, whose regular expressions
(RE2) know only ASCII letters as `\\w`, where Python's know every alphabet: with ASCII spelt
out, both runtimes find the same words (`onnx.words`). An accented word splits at its accents
("Gaudí" gives "gaud"). Single words, not word pairs: ONNX Runtime finds a pair only when its
first word is in the vocabulary too, which a capped vocabulary does not promise; on the Tate
titles and media, pairs gained nothing for the trees.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

from ..data.schema import WORD_PATTERN
from ..errors import StageError

WORDS_STEP = "words_"  # the ColumnTransformer step of text column i: "words_<i>"
LINEAR_WORDS = 2000
# A dense block for some families (`preprocessing.DENSE`): rows x TREE_WORDS per column. On the
# Tate table a forest split as well on 100 words as on 200, in half the time.
TREE_WORDS = 100


def words(scaled: bool) -> CountVectorizer:
    """An unfitted vectorizer for one text column: TF-IDF for a linear model (`scaled`),
    0/1 presence for trees."""
    if scaled:
        return TfidfVectorizer(token_pattern=WORD_PATTERN, max_features=LINEAR_WORDS)
    return CountVectorizer(
        token_pattern=WORD_PATTERN, max_features=TREE_WORDS, binary=True, dtype=np.float32
    )


class WordNames:
    """The encoded inputs' names (a ColumnTransformer's verbose_feature_names_out): each
    column's own, and a word as "<column>: <word>", since two text columns share words."""

    def __init__(self, text: list[str] | tuple[str, ...]) -> None:
        self.text = list(text)

    def __call__(self, step: str, feature: str) -> str:
        if step.startswith(WORDS_STEP):
            return f"{self.text[int(step.removeprefix(WORDS_STEP))]}: {feature}"
        return feature


def require_words(features: pd.DataFrame, text: list[str]) -> None:
    """Refuse a free-text column none of whose training values holds a word: its vectorizer
    would have nothing to learn (text in another alphabet; codes)."""
    for name in text:
        if not features[name].astype(str).str.contains(WORD_PATTERN).any():
            raise StageError(
                f"schema.yaml: column {name!r} is of kind text, but no value holds a word "
                f"(two or more ASCII letters or digits); make it categorical"
            )
