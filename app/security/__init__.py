"""Security helpers every layer may use: redacting secrets, rules for strong secrets, comparisons.

Standard library only, so it sits below `app.config` in the import layers: the settings use
it to word their errors without printing a password, the logging set-up uses it to scrub every
record, and the web, mail and job code compare secrets through it.

- `redact`: credentials in URLs, signed tokens in paths, secret query parameters;
- `logs`: a log-record factory that passes every record through `redact`;
- `secrets`: the strength rule for production secrets and constant-time comparison.
"""
