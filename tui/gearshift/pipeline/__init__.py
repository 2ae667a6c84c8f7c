"""The pipeline: one task's journey and the session that queues them."""
