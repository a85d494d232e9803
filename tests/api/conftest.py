"""The API tests use the site's seeded database and app fixtures."""

from tests.web.conftest import client, seeded

__all__ = ["client", "seeded"]
