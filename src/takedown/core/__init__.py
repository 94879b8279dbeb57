"""The pure domain: what Takedown reasons about, with no framework, driver or ML library.

Everything above (storage, API, detectors) speaks in these types, so they stay small, frozen
and serialisable to plain JSON.
"""
