"""Errors a user can act on: each carries one clear sentence, never a traceback."""


class CompanionError(Exception):
    """A problem with the user's input or environment, explained in plain words."""

    exit_code = 2

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class AudioInputError(CompanionError):
    """A call recording or device that cannot be read as asked."""


class ConfigError(CompanionError):
    """A coaching or playbook file that is not valid."""


class ModelError(CompanionError):
    """A speech model that is missing, incomplete or cannot be loaded."""


class DownloadError(CompanionError):
    """A model download that failed; nothing half-installed is left behind."""


class DownloadCancelled(DownloadError):
    """The user cancelled a download."""

    exit_code = 130


class DeviceError(CompanionError):
    """An audio device that is missing, busy or cannot be opened as asked."""
