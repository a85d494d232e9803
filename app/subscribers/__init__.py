"""People: signed links (`tokens`), address and form validation (`validation`), the SQL (`queries`),
the subscription service (`service`: subscribe, confirm, preferences, feedback, data requests) and
suppressions (`suppression`: bounces, complaints, the webhook). Services never commit; the flow
that records a request and mails its confirmation is `app.mail.flows.request_subscription`."""
