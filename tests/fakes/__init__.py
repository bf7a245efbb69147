"""Fakes shared by the tests: servers and models that stand in for real providers."""
