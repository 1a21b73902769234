"""The report: the run's summary, JSON and Markdown."""
