"""Yimi's analysis core: a plain library (numpy, scipy, shapely, pyproj, pyosmium), no Django.

Django apps call it; it is tested on its own, on small synthetic graphs and on the real
sample extract.
"""
