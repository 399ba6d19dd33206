"""Property-based fuzzing of a live pica: hypothesis strategies for every kind of request.

`tests/conformance/test_fuzz.py` runs a bounded number of examples in the normal suite; `python
-m tests.fuzz` (`make fuzz`) drives a long run of generated requests from several processes and
prints the totals by status.
"""
