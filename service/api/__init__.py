"""HTTP layer: routes, request schemas, problem+json errors. The only package that knows Flask."""
