"""The one error a request can cause: what it asked for cannot be done, with the HTTP status to answer."""

from __future__ import annotations

__all__ = ["RequestError"]


class RequestError(ValueError):
    """What a request asked for cannot be done; ``status`` is the HTTP status to answer with (4xx).

    The message is shown on the page as it is: it names the field and says what was expected and what was got.

    Examples:
        >>> err = RequestError("model: 'ih1' is not trained in this run", status=404)
        >>> err.status, str(err)
        (404, "model: 'ih1' is not trained in this run")
    """

    def __init__(self, message: str, *, status: int = 400):
        super().__init__(message)
        self.status = status
