"""The application layer: the use-cases (analyze and keep a call, import recordings, the `calls`
commands, export) above the pipeline, the store and the team package, and the wiring between them
(companion.app.wiring)."""
