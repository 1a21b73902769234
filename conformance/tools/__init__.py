"""Command-line tools: import-spec, lint-spec, coverage, drift, spec-diff, bench, record-sandbox, check-payload."""
