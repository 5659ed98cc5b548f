"""Everything that runs a neural network: the encoders and the alignment head.

This package is the only place that imports torch; the rest of the project exchanges numpy arrays with it.
"""
