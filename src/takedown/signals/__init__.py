"""Signal types: content → canonical string signals (md5, sha256, normalised text, pdq, ...)."""
