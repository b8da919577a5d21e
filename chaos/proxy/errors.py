"""Every error the API can answer, in one table (status and exact Toxiproxy wording)."""

from __future__ import annotations

__all__ = [
    "ApiError",
    "BadRequest",
    "InvalidStream",
    "InvalidToxicType",
    "MissingName",
    "MissingUpstream",
    "ProxyExists",
    "ProxyNotFound",
    "ServerError",
    "ToxicExists",
    "ToxicNotFound",
]


class ApiError(Exception):
    """An error answered as `{"error": message, "status": status}`.

    The module-level instances are templates: call one to get a fresh exception to raise,
    optionally with a more specific message (`raise BadRequest("bad request body: EOF")`).
    """

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status

    def __call__(self, message: str | None = None) -> ApiError:
        return ApiError(self.message if message is None else message, self.status)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ApiError):
            return NotImplemented
        return (self.message, self.status) == (other.message, other.status)

    def __hash__(self) -> int:
        return hash((self.message, self.status))

    def __repr__(self) -> str:
        return f"ApiError({self.message!r}, {self.status})"


ProxyNotFound = ApiError("proxy not found", 404)
ToxicNotFound = ApiError("toxic not found", 404)
ProxyExists = ApiError("proxy already exists", 409)
ToxicExists = ApiError("toxic already exists", 409)
InvalidToxicType = ApiError("invalid toxic type", 400)
InvalidStream = ApiError("stream was invalid, can be either upstream or downstream", 400)
MissingName = ApiError("missing required field: name", 400)
MissingUpstream = ApiError("missing required field: upstream", 400)
BadRequest = ApiError("bad request body", 400)
ServerError = ApiError("internal server error", 500)
