"""The Training dock and the runner that talks to the training process."""
