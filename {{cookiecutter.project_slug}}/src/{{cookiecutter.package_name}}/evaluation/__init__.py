"""The champion on the test split: metrics, curves, diagnostics, figures and the documents."""
