"""A mock LTI 1.3 Advantage platform (an LMS), served over real HTTP on loopback."""
