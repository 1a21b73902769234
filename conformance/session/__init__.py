"""The session a test drives: calls, the ledger of what it made, run ids, and its teardown."""
