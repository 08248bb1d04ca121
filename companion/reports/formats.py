"""The formats a saved call exports to (`calls export --format`): named here, without the renderers, so the
command line can offer them before anything heavy is imported."""

FORMATS = ("json", "txt", "srt", "vtt", "csv", "html")
