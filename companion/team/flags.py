"""The team commands' option names that other modules quote in what they say (kept apart so the command
line can name them without importing the connection machinery)."""

INSECURE_FLAG = "--insecure-allow-plaintext"
