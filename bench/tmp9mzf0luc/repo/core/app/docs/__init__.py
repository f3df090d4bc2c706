"""The documentation built from the compiled rules: ``openapi`` (the OpenAPI document), ``versions`` (one
document per API version), ``site`` (/docs with Swagger UI served locally), ``export`` (Markdown, JSON and
HTML exports) and ``response_check`` (responses checked against responseSchemes when asked).
"""
