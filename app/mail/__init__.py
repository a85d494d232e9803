"""Email: digests and confirmations from the outbox to the inbox.

`render` (Jinja, inlined CSS), `compose` (the mail setup; outbox rows and signed messages),
`message`, `mime` and `dkim` (headers and signatures), `senders` (SMTP and the file outbox),
`service` (queueing into the outbox; never commits), `flows` (the send loop, the immediate
send and the subscribe request; they own their transactions), `leases` (claiming rows),
`outcomes` (recording replies), `pause` (the error-threshold stop), `policy` and `ratelimit`
(budgets), `queries` (outbox reads) and `overview` (the /admin figures).
"""
