"""Model calls: the SDK client, recorded streams, and what calls cost."""
