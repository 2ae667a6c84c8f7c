"""Edits: the staged copy of the project and the text editor tool that writes into it."""
