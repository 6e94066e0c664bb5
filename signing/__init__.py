"""PKI, PDF signing and verification: a library that never imports ``app``.

Filled in by the digital-signature issue (provincial PKI, PAdES with pyHanko,
ETSI-vocabulary verification).
"""
