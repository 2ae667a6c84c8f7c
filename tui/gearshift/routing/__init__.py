"""Routing: complexity score and the rules that pick a model."""
