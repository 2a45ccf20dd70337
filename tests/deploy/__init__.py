"""The production-shaped tier: a release on the EMR stand-in (YARN mini cluster, moto)."""
