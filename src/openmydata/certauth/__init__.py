"""통합인증기관 (the certification authority for integrated authentication): person certificates, identity
verification, consent signing (sign request → the person approves → sign result) and sign verification."""
