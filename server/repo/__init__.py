"""Data access: every query the routes and services need goes through these modules."""
