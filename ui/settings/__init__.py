"""Settings and the first-run Setup."""
