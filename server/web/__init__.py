"""The supervisor web UI: server-rendered pages (简体中文) over the domain services."""
