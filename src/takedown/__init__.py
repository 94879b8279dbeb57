"""Takedown: find and remove terrorist propaganda quickly, fairly and transparently."""

__version__ = "0.1.0"
