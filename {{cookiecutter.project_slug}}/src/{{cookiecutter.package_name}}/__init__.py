"""Train and serve a tabular model: the DVC stages, the model and the prediction API."""

__version__ = "0.1.0"
