"""Strato: S3-compatible storage, Lambda-compatible functions and a CDN edge in one package."""

__version__ = "0.1.0"
