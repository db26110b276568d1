"""The dashboard: a web app over a task's chain (event logs and view calls) or a finished run's results."""
