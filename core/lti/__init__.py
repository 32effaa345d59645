"""LTI 1.3 Advantage tool side: platform keys, id_token verification, launch claims."""
