"""Cassettes: recording and replaying exchanges, their files, cache, provenance, and explaining a miss."""
