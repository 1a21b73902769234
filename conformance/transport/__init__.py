"""Transport: settings, the client that sends a variant, bounded answers, pre-flight, faults and retries."""
