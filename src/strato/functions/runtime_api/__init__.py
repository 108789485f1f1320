"""The server side of the Lambda Runtime API: the only HTTP spoken inside functions/.

https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html
"""

from .channel import RuntimeChannel, RuntimeEvents
from .listener import RuntimeApiListener
from .wire import MAX_RESULT, Delivery

__all__ = ["MAX_RESULT", "Delivery", "RuntimeApiListener", "RuntimeChannel", "RuntimeEvents"]
