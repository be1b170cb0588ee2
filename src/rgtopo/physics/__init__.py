"""The physics: p+ip lattices and any 2D lattice Hamiltonian, their clean phase diagram and
symmetries, disorder sampling, and exact or certified Chern numbers (Bott index, spectral
localizer, sparse solvers). Nothing here knows about networks or files of the workflow.
"""
