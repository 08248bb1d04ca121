"""Reports of a saved call: the HTML coaching report (its timeline and mood band) and the export formats
(json, txt, srt, vtt, csv, html). They render a call document (companion.store.calls.load_call) and
never read the store themselves."""
