"""hall package."""
