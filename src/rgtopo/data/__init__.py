"""Data on disk: the HDF5 shard format, datasets sampled and labeled into shards, training
batches streamed from shards, and the readers of a user's lattice and Hamiltonian files.
"""
