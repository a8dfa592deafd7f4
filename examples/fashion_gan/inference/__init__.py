"""Redressing people with trained models: the two-stage chain, people from files."""
