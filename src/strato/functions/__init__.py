"""The functions engine: registry, packages, sandboxed execution environments, invocation.

It knows nothing of the Lambda HTTP API (that is api/awslambda); the only HTTP inside it is
the server side of the Lambda Runtime API that environments talk to.
"""
