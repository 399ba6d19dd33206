"""Wire layer: turns HTTP requests into domain calls and domain results into HTTP responses.

Only this package knows about headers, PascalCase member names and `__type`; the domain
(`pica.authority`) never sees a wire dict.
"""
