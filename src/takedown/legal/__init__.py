"""legal: removal orders and their one-hour clock, evidence preservation, lawful requests and
the signed audit checkpoints that anchor the ledger."""
