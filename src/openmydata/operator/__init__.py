"""The MyData operator (마이데이터사업자): a consumer web app and JSON API that signs people up through the
certification authority, composes and has them sign consents (전송요구), obtains tokens through 통합인증-002 and
collects every consented API through the catalogue."""
