"""Editable rule files (YAML) for yimi.voice.text; a package so setuptools ships them."""
