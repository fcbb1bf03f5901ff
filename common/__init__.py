"""Pieces shared by the server and the edge processes: the edge-event contract and settings loading."""
