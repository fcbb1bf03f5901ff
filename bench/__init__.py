"""Benchmarks of the service hall: ingestion, the counter agent, rating summaries and the ticket queue."""
