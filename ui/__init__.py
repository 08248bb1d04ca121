"""The Call Companion window (PySide6). Imports `companion`; `companion` never imports this."""
