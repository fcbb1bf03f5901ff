"""The ``hall`` command: the composition root that starts the server, agents, kiosk and simulators."""
