"""Helpers shared by the test suites (servers to run against, not fixtures)."""
