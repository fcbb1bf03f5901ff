"""SQLModel tables. Importing this package registers every table on ``SQLModel.metadata``."""

from server.models.appointments import Appointment, AppointmentSlot
from server.models.attendance import FingerprintEnrollment, Punch
from server.models.attendance_rules import (
    AttendanceAudit,
    AttendanceConfig,
    LeaveRequest,
    MakeupRequest,
    OfficerSchedule,
)
from server.models.audit import AuditEntry
from server.models.badges import Badge, BadgePunch
from server.models.calendar import CalendarDay, CalendarYear
from server.models.cases import Case, CaseEvent
from server.models.devices import Device, DeviceState, DeviceStatusChange
from server.models.enrollment import EnrollmentRequest
from server.models.events import EdgeEventRecord
from server.models.followups import Complaint, Followup, FollowupNote, RatingExclusion
from server.models.queue import QueueCall, Ticket, TicketCounter
from server.models.ratings import MisuseSignal, Rating
from server.models.registry import Department, Officer, PostAssignment, ServiceItem, Window, WindowItem
from server.models.rollups import RatingTallyDay, RatingTallyMonth
from server.models.users import User

__all__ = [
    "Appointment",
    "AppointmentSlot",
    "AttendanceAudit",
    "AttendanceConfig",
    "AuditEntry",
    "Badge",
    "BadgePunch",
    "CalendarDay",
    "CalendarYear",
    "Case",
    "CaseEvent",
    "Complaint",
    "Department",
    "Device",
    "DeviceState",
    "DeviceStatusChange",
    "EdgeEventRecord",
    "EnrollmentRequest",
    "FingerprintEnrollment",
    "Followup",
    "FollowupNote",
    "LeaveRequest",
    "MakeupRequest",
    "MisuseSignal",
    "Officer",
    "OfficerSchedule",
    "PostAssignment",
    "Punch",
    "QueueCall",
    "Rating",
    "RatingExclusion",
    "RatingTallyDay",
    "RatingTallyMonth",
    "ServiceItem",
    "Ticket",
    "TicketCounter",
    "User",
    "Window",
    "WindowItem",
]
