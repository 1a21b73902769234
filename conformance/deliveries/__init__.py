"""Webhook deliveries: the receiver that hears them and the inbox a test waits on."""
