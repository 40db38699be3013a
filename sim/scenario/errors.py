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


# where a scenario that loaded but whose values the model finds out of line when a run starts (e.g. a
# status quo the 2019 data cannot carry) is named: by its name (`unnamed`); a command that knows the
# file names the file instead (`in_file`)
THE_SCENARIO = "the scenario"


def unnamed(name: str) -> str:
    return f"{THE_SCENARIO} '{name}'"


def in_file(e: ScenarioError, path: str | Path) -> ScenarioError:
    """The same error naming `path` when it was raised by a run that did not know its file."""
    return ScenarioError(path, e.key, e.message) if e.file.startswith(THE_SCENARIO) else e
