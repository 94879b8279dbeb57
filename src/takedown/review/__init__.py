"""The reviewer's workbench, as pure rules: what a human decision is, who may decide an appeal,
how evidence is highlighted, and what a statement of reasons says.

Nothing here touches a database: the transactional case service (decide, escalate, appeal,
overturn, with ledger events and webhooks in one transaction) is in takedown.storage.reviews
and takedown.storage.appeals, which call these rules. The import-linter layers keep `review`
and `storage` independent siblings, so the pure rules live here and the writes live there.
"""
