"""counter_agent package."""
