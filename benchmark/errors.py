"""The one error type the CLI turns into a single clear line and a non-zero exit."""


class DfbenchError(Exception):
    """A user-facing problem: the message names the thing at fault and the fix, in one line."""

    exit_code = 2


class BadVideoError(DfbenchError):
    """A video that cannot be decoded or holds no face; the run records it and goes on."""

    def __init__(self, path, problem: str, fix: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{path}: {problem}; {fix}")
