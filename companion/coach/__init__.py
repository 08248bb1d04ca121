"""The coach: turns metric snapshots into a few well-timed prompts."""
