"""Email: rendering (Jinja, inlined CSS), message building (headers, DKIM), senders, the outbox,
and its delivery (leases, outcomes, the error-threshold pause, the send loop)."""
