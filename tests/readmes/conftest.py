from support.http_server import http_server  # noqa: F401  (fixture)
