"""Email: rendering (Jinja, inlined CSS), message building (headers, DKIM), senders, the outbox."""
