"""Exception root of the server's domain layer."""


class HallError(Exception):
    """Root of the server's domain errors."""


class NotFoundError(HallError):
    """A referenced record does not exist."""


class ConflictError(HallError):
    """The request conflicts with the current state."""


class AuthError(HallError):
    """Missing, wrong or revoked credentials."""


class ForbiddenError(HallError):
    """Authenticated, but not allowed to do this."""
