"""Saved calls: a crash-safe local SQLite store, redaction, queries and exports."""
