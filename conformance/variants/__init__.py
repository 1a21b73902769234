"""Variants: drawing valid and invalid requests from the contract, and pinning them in cassettes."""
