"""The Korean MyData standard as data: catalogue, field types, codes, formats, consent model, generic client.

Imports only `openmydata.kit`.
"""
