"""pica: a self-hosted private certificate authority that speaks the AWS ACM Private CA API."""

__version__ = "0.1.0"
