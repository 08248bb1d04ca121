"""Call Companion core: audio, voice activity, monitor, coach, CLI. No Qt here."""

__version__ = "0.1.0"
