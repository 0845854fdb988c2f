"""Scoring tables at scale: streamed chunk by chunk on one machine, or on Spark."""
