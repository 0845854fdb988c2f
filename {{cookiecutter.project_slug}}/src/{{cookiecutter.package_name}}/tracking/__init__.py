"""MLflow: runs for training and evaluation, and the gated model registry."""
