"""정보제공자 — the data provider participant: one code base for any sectors of the catalogue."""
