"""reports: figures computed from the ledger, the transparency report (HTML, JSON, CSV) and
DSA statements of reasons in the Transparency Database format."""
