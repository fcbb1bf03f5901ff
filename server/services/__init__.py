"""Domain services: the rules of the hall, over the data-access layer."""
