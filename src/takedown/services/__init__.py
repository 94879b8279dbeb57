"""Services: the use cases (ingest, process, deliver, review) composed from storage, detection,
policy and actions. Entry points (API, CLI, web) call these and nothing lower."""
