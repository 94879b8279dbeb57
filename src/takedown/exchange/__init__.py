"""Hash sharing: the hub, the node-side follower, exchange clients and interchange formats.

Every peer exchange (our own hub, Tech Against Terrorism's hash list, ThreatExchange, files) is
reached through one small interface, `ExchangeClient` in `client.py`, so sync, feedback and
crisis handling never need to know which peer an entry came from.
"""
