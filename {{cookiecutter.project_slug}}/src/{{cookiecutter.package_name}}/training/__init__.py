"""Model families, their preprocessing and search spaces, cross-validation, the Optuna search,
the leaderboard, and the trainer that ties them together."""
