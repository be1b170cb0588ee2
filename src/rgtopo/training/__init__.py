"""Training: the resumable loop, optimizers and schedules, the three stages of Appendices A and
B, the scores they select on (``metrics``) and the statistics baseline fitted beside them.
"""
