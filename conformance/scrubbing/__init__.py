"""Scrubbing: secrets and personal data out of everything written or printed, with schema-valid stand-ins."""
