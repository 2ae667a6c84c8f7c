"""Context: which files the model sees, chosen from the import graph under a budget."""
