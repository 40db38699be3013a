"""The one error type of bad scenario input, in files and in Python alike."""

from __future__ import annotations

from pathlib import Path


class ScenarioError(ValueError):
    """A scenario file is missing, unparsable or invalid. `str()` names the file and the key."""

    def __init__(self, file: str | Path, key: str | None, message: str):
        self.file = str(file)
        self.key = key
        self.message = message
        where = f"{self.file}: {key}: " if key else f"{self.file}: "
        super().__init__(where + message)
