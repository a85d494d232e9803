"""The security tests: each is named after a promise of the product and fails when it is broken.

The mail and digest test helpers (a real aiosmtpd server, papers and subscribers written
through the models) are imported from those suites by their full names.
"""
