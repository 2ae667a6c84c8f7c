"""Validation: run the project's own checks in the staged copy and judge the outcome."""
