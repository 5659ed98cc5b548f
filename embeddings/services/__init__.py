"""Writes and decisions about embeddings: embedding products, training the head, building and switching
generations, and the progress of the jobs that do it."""
