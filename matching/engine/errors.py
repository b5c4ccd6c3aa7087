"""The engine's exceptions: bad input, and a solver that did not reach an optimum."""


class MatchingInputError(ValueError):
    """An instance that cannot be solved, with the path of the offending field."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
        self.message = message


class SolverFailure(RuntimeError):
    """HiGHS did not return an optimal solution (should not happen for valid models)."""


def one_line(error: Exception) -> str:
    """An exception's message with its whitespace, newlines included, collapsed to spaces."""
    return " ".join(str(error).split())
