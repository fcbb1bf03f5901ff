"""Attendance evaluation: rules, schedules, leave, make-up punches, reports."""

from server.errors import HallError


class AttendanceError(HallError):
    """An attendance request that cannot be carried out as asked."""
