"""The paper's figures and tables: ``registry`` declares each one (inputs, parameters), ``draw``
draws it.
"""
