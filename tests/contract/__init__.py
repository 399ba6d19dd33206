"""Contract tests: each port's suite run against every adapter that implements it."""
