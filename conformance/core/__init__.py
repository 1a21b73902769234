"""One exchange's path: model, variants, client, recording and scrubbing, checks, failures, report."""
