"""종합포털 (the MyData portal): the registry of organisations and services, 지원-001…006."""
