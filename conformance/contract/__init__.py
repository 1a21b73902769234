"""The contract: spec import, overlay, lint, schema registry, operation index and resource table."""
