"""The table: reading sources, schema.yaml (inference, cleaning, contract), the profile,
the split, and the engineered features."""
