"""Checks: what an exchange must satisfy, the verdicts on it, and fields the contract does not declare."""
