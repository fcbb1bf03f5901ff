"""Tests of the ticket kiosk."""
