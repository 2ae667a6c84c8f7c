"""The five panes of the main screen; each reads the app's UIState and nothing else."""
