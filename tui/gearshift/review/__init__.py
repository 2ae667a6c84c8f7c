"""Review tasks: the model views files and records findings; nothing is written (issue 16)."""
