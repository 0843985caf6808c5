"""Test support for syncbridge and its plugins (registered as a pytest plugin).

``syncbridge.testing.servers`` gives fixtures for the real database servers tests use.
"""
