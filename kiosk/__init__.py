"""Ticket kiosk process and the shared device library (``kiosk.devices``)."""
