"""Speech recognition with Vosk: models (discovery, validation, download) and streaming transcribers."""
