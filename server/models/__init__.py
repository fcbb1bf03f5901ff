"""SQLModel tables. Importing this package registers every table on ``SQLModel.metadata``."""

from server.models.attendance import FingerprintEnrollment, Punch
from server.models.devices import Device, DeviceState, DeviceStatusChange
from server.models.events import EdgeEventRecord
from server.models.ratings import MisuseSignal, Rating
from server.models.registry import Department, Officer, PostAssignment, ServiceItem, Window, WindowItem
from server.models.users import User

__all__ = [
    "Department",
    "Device",
    "DeviceState",
    "DeviceStatusChange",
    "EdgeEventRecord",
    "FingerprintEnrollment",
    "MisuseSignal",
    "Officer",
    "PostAssignment",
    "Punch",
    "Rating",
    "ServiceItem",
    "User",
    "Window",
    "WindowItem",
]
